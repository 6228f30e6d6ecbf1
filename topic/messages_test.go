package topic

import (
	"reflect"
	"testing"

	"github.com/pinionkit/pinion/internal/rules"
)

func TestMessages(t *testing.T) {
	s := &Set{custom: map[string]rules.Rule{
		"sku":       rules.Custom("sku", "must be a stock-keeping unit", "", ""),
		"divisible": rules.Custom("divisible", "must be divisible by {param}", "", ""),
	}}
	tests := []struct {
		subject, tag, param string
		kind                reflect.Kind
		want                string
	}{
		{"theme", "required", "", reflect.String, "theme is required"},
		{"owner", "required_with", "Name", reflect.String, "owner is required"},
		{"fontSize", "max", "32", reflect.Int, "fontSize must be at most 32"},
		{"ratio", "lte", "1.5", reflect.Float64, "ratio must be at most 1.5"},
		{"name", "max", "80", reflect.String, "name must be at most 80 characters long"},
		{"items", "max", "50", reflect.Slice, "items must contain at most 50 items"},
		{"labels", "max", "1", reflect.Map, "labels must contain at most 1 item"},
		{"fontSize", "min", "10", reflect.Int, "fontSize must be at least 10"},
		{"code", "min", "1", reflect.String, "code must be at least 1 character long"},
		{"tags", "gte", "2", reflect.Slice, "tags must contain at least 2 items"},
		{"age", "gt", "17", reflect.Uint8, "age must be greater than 17"},
		{"password", "gt", "8", reflect.String, "password must be longer than 8 characters"},
		{"items", "gt", "0", reflect.Slice, "items must contain more than 0 items"},
		{"age", "lt", "120", reflect.Int, "age must be less than 120"},
		{"code", "lt", "5", reflect.String, "code must be shorter than 5 characters"},
		{"tags", "lt", "5", reflect.Array, "tags must contain fewer than 5 items"},
		{"pin", "len", "4", reflect.String, "pin must be exactly 4 characters long"},
		{"pair", "len", "2", reflect.Slice, "pair must contain exactly 2 items"},
		{"answer", "eq", "42", reflect.Int, "answer must equal 42"},
		{"mode", "ne", "off", reflect.String, "mode must not be off"},
		{"theme", "oneof", "light dark system", reflect.String, "theme must be one of: light, dark, system"},
		{"city", "oneof", "'New York' Paris", reflect.String, "city must be one of: New York, Paris"},
		{"level", "oneof", "1 2 3", reflect.Int, "level must be one of: 1, 2, 3"},
		{"mail", "email", "", reflect.String, "mail must be a valid email address"},
		{"site", "url", "", reflect.String, "site must be a valid URL"},
		{"id", "uuid4", "", reflect.String, "id must be a valid UUID"},
		{"accentColor", "hexcolor", "", reflect.String, "accentColor must be a valid hex color such as #4f46e5"},
		{"language", "bcp47_language_tag", "", reflect.String, "language must be a valid language tag such as en or pt-BR"},
		{"coupon", "alphanum", "", reflect.String, "coupon must contain only letters and digits"},
		{"when", "datetime", "2006-01-02", reflect.String, "when must be a date or time in the layout 2006-01-02"},
		{"tags", "unique", "", reflect.Slice, "tags must not contain duplicates"},
		{"sku", "sku", "", reflect.String, "sku must be a stock-keeping unit"},
		{"n", "divisible", "5", reflect.Int, "n must be divisible by 5"},
		{"flag", "max", "1", reflect.Bool, "flag failed the 'max' rule"},
		{"x", "something_new", "", reflect.String, "x failed the 'something_new' rule"},
		{"", "required", "", reflect.Struct, "the document is required"},
	}
	for _, tt := range tests {
		t.Run(tt.tag+"/"+tt.kind.String(), func(t *testing.T) {
			if got := s.message(tt.subject, tt.tag, tt.param, tt.kind); got != tt.want {
				t.Errorf("message = %q, want %q", got, tt.want)
			}
		})
	}
}
