package main

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// envFlags binds flags to their PINION_ environment twins. A value that
// does not parse is remembered and reported by err, after flag parsing,
// with what to write instead: a misspelt boolean must not quietly mean
// "off".
type envFlags struct {
	fs     *flag.FlagSet
	getenv func(string) string
	errs   []error
}

func (e *envFlags) lookup(env string) (string, bool) {
	v := e.getenv(env)
	return v, v != ""
}

func (e *envFlags) String(p *string, name, env, def, usage string) {
	if v, ok := e.lookup(env); ok {
		def = v
	}
	e.fs.StringVar(p, name, def, usage+" (env "+env+")")
}

func (e *envFlags) Int(p *int, name, env string, def int, usage string) {
	if v, ok := e.lookup(env); ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 0 {
			e.errs = append(e.errs, fmt.Errorf("%s=%q is not a whole number ≥ 0; write for example %s=%d (0 means no limit)", env, v, env, def))
		} else {
			def = n
		}
	}
	e.fs.IntVar(p, name, def, usage+" (env "+env+")")
}

func (e *envFlags) Int64(p *int64, name, env string, def int64, usage string) {
	if v, ok := e.lookup(env); ok {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || n < 0 {
			e.errs = append(e.errs, fmt.Errorf("%s=%q is not a whole number ≥ 0; write for example %s=%d (0 means no limit)", env, v, env, def))
		} else {
			def = n
		}
	}
	e.fs.Int64Var(p, name, def, usage+" (env "+env+")")
}

func (e *envFlags) Float(p *float64, name, env string, def float64, usage string) {
	if v, ok := e.lookup(env); ok {
		n, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || n < 0 {
			e.errs = append(e.errs, fmt.Errorf("%s=%q is not a number ≥ 0; write for example %s=%g (0 means no limit)", env, v, env, def))
		} else {
			def = n
		}
	}
	e.fs.Float64Var(p, name, def, usage+" (env "+env+")")
}

func (e *envFlags) Duration(p *time.Duration, name, env string, def time.Duration, usage string) {
	if v, ok := e.lookup(env); ok {
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil || d < 0 {
			e.errs = append(e.errs, fmt.Errorf("%s=%q is not a duration; write for example %s=%s", env, v, env, def))
		} else {
			def = d
		}
	}
	e.fs.DurationVar(p, name, def, usage+" (env "+env+")")
}

// Bool accepts exactly true or false (and Go's 1/0/t/f spellings, which
// mean what they say); anything else is refused rather than read as off.
func (e *envFlags) Bool(p *bool, name, env string, def bool, usage string) {
	if v, ok := e.lookup(env); ok {
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			e.errs = append(e.errs, fmt.Errorf("%s=%q is not a boolean; write %s=true or %s=false", env, v, env, env))
		} else {
			def = b
		}
	}
	e.fs.BoolVar(p, name, def, usage+" (env "+env+")")
}

// limits are the flags that bound what one request can cost.
type limits struct {
	maxJSONDepth   int
	maxJSONMembers int
}

func (l *limits) bind(e *envFlags) {
	e.Int(&l.maxJSONDepth, "max-json-depth", "PINION_MAX_JSON_DEPTH", 32,
		"deepest nesting of objects and arrays in a request body; 0 = no limit")
	e.Int(&l.maxJSONMembers, "max-json-members", "PINION_MAX_JSON_MEMBERS", 10000,
		"object members plus array elements in one request body; 0 = no limit")
}
