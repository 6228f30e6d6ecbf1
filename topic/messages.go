package topic

import (
	"reflect"
	"regexp"
	"strings"
)

// oneofValuePattern splits a oneof parameter the way the validator does:
// values are separated by spaces, and a value in single quotes may
// contain spaces.
var oneofValuePattern = regexp.MustCompile(`'[^']*'|\S+`)

// message returns the sentence that explains a failed rule. subject is how
// the sentence names the value ("fontSize", "favorites[3]"); kind is the
// value's kind, which decides whether a size is a number, a length in
// characters or a count of items.
func (s *Set) message(subject, tag, param string, kind reflect.Kind) string {
	if subject == "" {
		subject = "the document"
	}
	if phrase, ok := s.messages[tag]; ok {
		return subject + " " + strings.ReplaceAll(phrase, "{param}", param)
	}
	if m := ruleMessage(subject, tag, param, kind); m != "" {
		return m
	}
	return fallbackMessage(subject, tag)
}

func fallbackMessage(subject, tag string) string {
	return subject + " failed the '" + tag + "' rule"
}

// ruleMessage returns the English sentence for the validator's common
// rules, or "" for a rule it has no sentence for.
func ruleMessage(subject, tag, param string, kind reflect.Kind) string {
	switch tag {
	case "required", "required_if", "required_unless", "required_with",
		"required_with_all", "required_without", "required_without_all":
		return subject + " is required"
	case "min", "gte":
		return bySize(kind,
			subject+" must be at least "+param,
			subject+" must be at least "+count(param, "character")+" long",
			subject+" must contain at least "+count(param, "item"))
	case "max", "lte":
		return bySize(kind,
			subject+" must be at most "+param,
			subject+" must be at most "+count(param, "character")+" long",
			subject+" must contain at most "+count(param, "item"))
	case "gt":
		return bySize(kind,
			subject+" must be greater than "+param,
			subject+" must be longer than "+count(param, "character"),
			subject+" must contain more than "+count(param, "item"))
	case "lt":
		return bySize(kind,
			subject+" must be less than "+param,
			subject+" must be shorter than "+count(param, "character"),
			subject+" must contain fewer than "+count(param, "item"))
	case "len":
		return bySize(kind,
			subject+" must equal "+param,
			subject+" must be exactly "+count(param, "character")+" long",
			subject+" must contain exactly "+count(param, "item"))
	case "eq":
		return bySize(kind,
			subject+" must equal "+param,
			subject+" must be "+param,
			subject+" must contain exactly "+count(param, "item"))
	case "ne":
		return bySize(kind,
			subject+" must not equal "+param,
			subject+" must not be "+param,
			subject+" must not contain exactly "+count(param, "item"))
	case "oneof":
		values := oneofValuePattern.FindAllString(param, -1)
		for i, v := range values {
			values[i] = strings.Trim(v, "'")
		}
		return subject + " must be one of: " + strings.Join(values, ", ")
	case "alpha", "alphaunicode":
		return subject + " must contain only letters"
	case "alphanum", "alphanumunicode":
		return subject + " must contain only letters and digits"
	case "number":
		return subject + " must contain only digits"
	case "ascii":
		return subject + " must contain only ASCII characters"
	case "printascii":
		return subject + " must contain only printable ASCII characters"
	case "lowercase":
		return subject + " must be in lower case"
	case "uppercase":
		return subject + " must be in upper case"
	case "contains":
		return subject + " must contain " + param
	case "containsany":
		return subject + " must contain at least one of the characters " + param
	case "excludes":
		return subject + " must not contain " + param
	case "excludesall":
		return subject + " must not contain any of the characters " + param
	case "startswith":
		return subject + " must start with " + param
	case "endswith":
		return subject + " must end with " + param
	case "unique":
		return subject + " must not contain duplicates"
	case "datetime":
		return subject + " must be a date or time in the layout " + param
	case "boolean":
		return subject + " must be true or false"
	}
	if what := validWhat(tag); what != "" {
		return subject + " must be a valid " + what
	}
	return ""
}

// validWhat names what a format rule expects, for "must be a valid ...".
func validWhat(tag string) string {
	switch tag {
	case "email":
		return "email address"
	case "url":
		return "URL"
	case "http_url", "https_url":
		return "web address"
	case "uri":
		return "URI"
	case "uuid", "uuid3", "uuid4", "uuid5", "uuid_rfc4122", "uuid3_rfc4122", "uuid4_rfc4122", "uuid5_rfc4122":
		return "UUID"
	case "ulid":
		return "ULID"
	case "hexcolor":
		return "hex color such as #4f46e5"
	case "rgb", "rgba", "hsl", "hsla", "iscolor":
		return "color"
	case "bcp47_language_tag":
		return "language tag such as en or pt-BR"
	case "numeric":
		return "number"
	case "hexadecimal":
		return "hexadecimal number"
	case "ip", "ip_addr":
		return "IP address"
	case "ipv4", "ip4_addr":
		return "IPv4 address"
	case "ipv6", "ip6_addr":
		return "IPv6 address"
	case "cidr", "cidrv4", "cidrv6":
		return "network address in CIDR notation"
	case "mac":
		return "MAC address"
	case "hostname", "hostname_rfc1123", "fqdn":
		return "host name"
	case "hostname_port":
		return "host and port"
	case "e164":
		return "phone number in E.164 format such as +14155552671"
	case "base64", "base64url", "base64rawurl":
		return "base64 string"
	case "json":
		return "JSON text"
	case "jwt":
		return "JSON Web Token"
	case "semver":
		return "semantic version such as 1.2.3"
	case "cron":
		return "cron expression"
	case "timezone":
		return "time zone such as Europe/Paris"
	case "latitude":
		return "latitude"
	case "longitude":
		return "longitude"
	case "iso3166_1_alpha2", "iso3166_1_alpha3", "iso3166_1_alpha_numeric", "country_code":
		return "country code"
	case "iso4217", "iso4217_numeric":
		return "currency code"
	case "postcode_iso3166_alpha2", "postcode_iso3166_alpha2_field":
		return "postal code"
	case "md5", "sha256", "sha384", "sha512":
		return tag + " hash"
	}
	return ""
}

// bySize picks the sentence for a size rule: the validator compares
// numbers by value, strings by length in characters, and slices, arrays
// and maps by their number of items.
func bySize(kind reflect.Kind, number, text, items string) string {
	switch kind {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		return number
	case reflect.String:
		return text
	case reflect.Slice, reflect.Array, reflect.Map:
		return items
	}
	return ""
}

// count renders "1 item" or "3 items".
func count(n, noun string) string {
	if n == "1" {
		return n + " " + noun
	}
	return n + " " + noun + "s"
}
