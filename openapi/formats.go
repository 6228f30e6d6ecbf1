package openapi

// stringFormat maps a validator string rule to a JSON Schema format, a
// pattern, or both. The patterns are the validator's own (regexes.go of
// go-playground/validator v10.30), so that the schema accepts exactly
// what the server accepts; each is valid in Go's and in ECMAScript's
// regular expression syntax. A format is added where JSON Schema names
// the same thing, for the benefit of generators and form libraries.
func stringFormat(rule string) (format, pattern string, ok bool) {
	switch rule {
	case "email":
		return "email", "", true
	case "url":
		return "uri", "", true
	case "uri":
		return "uri-reference", "", true // the validator also accepts an absolute path
	case "http_url":
		return "uri", `^[Hh][Tt][Tt][Pp][Ss]?://`, true
	case "https_url":
		return "uri", `^[Hh][Tt][Tt][Pp][Ss]://`, true
	case "ipv4":
		return "ipv4", "", true
	case "ipv6":
		return "ipv6", "", true
	case "hostname":
		return "hostname", `^[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$`, true
	case "hostname_rfc1123":
		return "hostname", `^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$`, true
	case "uuid", "uuid_rfc4122":
		return "uuid", `^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`, true
	case "uuid3":
		return "uuid", `^[0-9a-f]{8}-[0-9a-f]{4}-3[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$`, true
	case "uuid4":
		return "uuid", `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, true
	case "uuid5":
		return "uuid", `^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, true
	case "uuid7":
		return "uuid", `^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, true
	}
	pattern = stringPattern(rule)
	return "", pattern, pattern != ""
}

// stringPattern returns the validator's pattern for a rule that has no
// JSON Schema format.
func stringPattern(rule string) string {
	switch rule {
	case "alpha":
		return `^[a-zA-Z]+$`
	case "alphaspace":
		return `^[a-zA-Z ]+$`
	case "alphanum":
		return `^[a-zA-Z0-9]+$`
	case "alphanumspace":
		return `^[a-zA-Z0-9 ]+$`
	case "alphaunicode":
		return `^[\p{L}]+$`
	case "alphanumunicode":
		return `^[\p{L}\p{N}]+$`
	case "numeric":
		return `^[-+]?[0-9]+(?:\.[0-9]+)?$`
	case "number":
		return `^[0-9]+$`
	case "hexadecimal":
		return `^(0[xX])?[0-9a-fA-F]+$`
	case "hexcolor":
		return `^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$`
	case "rgb":
		return `^rgb\(\s*(?:(?:0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*,\s*(?:0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*,\s*(?:0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])|(?:0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])%\s*,\s*(?:0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])%\s*,\s*(?:0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])%)\s*\)$`
	case "rgba":
		return `^rgba\(\s*(?:(?:0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*,\s*(?:0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*,\s*(?:0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])|(?:0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])%\s*,\s*(?:0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])%\s*,\s*(?:0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])%)\s*,\s*(?:(?:0.[1-9]*)|[01])\s*\)$`
	case "hsl":
		return `^hsl\(\s*(?:0|[1-9]\d?|[12]\d\d|3[0-5]\d|360)\s*,\s*(?:(?:0|[1-9]\d?|100)%)\s*,\s*(?:(?:0|[1-9]\d?|100)%)\s*\)$`
	case "hsla":
		return `^hsla\(\s*(?:0|[1-9]\d?|[12]\d\d|3[0-5]\d|360)\s*,\s*(?:(?:0|[1-9]\d?|100)%)\s*,\s*(?:(?:0|[1-9]\d?|100)%)\s*,\s*(?:(?:0.[1-9]*)|[01])\s*\)$`
	case "e164":
		return `^\+?[1-9]\d{7,14}$`
	case "base64":
		return `^(?:[A-Za-z0-9+\/]{4})*(?:[A-Za-z0-9+\/]{2}==|[A-Za-z0-9+\/]{3}=|[A-Za-z0-9+\/]{4})$`
	case "base64url":
		return `^(?:[A-Za-z0-9\-_]{4})*(?:[A-Za-z0-9\-_]{2}==|[A-Za-z0-9\-_]{3}=|[A-Za-z0-9\-_]{4})$`
	case "base64rawurl":
		return `^(?:[A-Za-z0-9\-_]{4})*(?:[A-Za-z0-9\-_]{2,4})$`
	case "ascii":
		return `^[\x00-\x7F]*$`
	case "printascii":
		return `^[\x20-\x7E]*$`
	case "semver":
		return `^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`
	case "jwt":
		return `^[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]*$`
	case "md5", "md4":
		return `^[0-9a-f]{32}$`
	case "sha256":
		return `^[0-9a-f]{64}$`
	case "sha384":
		return `^[0-9a-f]{96}$`
	case "sha512":
		return `^[0-9a-f]{128}$`
	case "mongodb":
		return `^[a-f\d]{24}$`
	case "bcp47_language_tag":
		// The validator asks golang.org/x/text/language.Parse, which no
		// pattern reproduces. This one admits every tag it accepts (and a
		// few it does not, such as a single letter), so that a client is
		// never refused a valid tag by the schema.
		return `^[A-Za-z]{1,8}(?:[-_][A-Za-z0-9]{1,8})*$`
	}
	return ""
}
