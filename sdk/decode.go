package sdk

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/gocty"
)

// Decode copies the attributes of obj, a ConfigureRequest's Config or a
// Host's Config, into the fields of the struct target points to. A field
// receives the attribute its `cty:"name"` tag names, converted to the
// field's type as gocty converts (numbers to int or float64, lists to
// slices, objects to tagged structs, a *T field for an attribute that may
// be null, a cty.Value field to keep the value as it is). Fields without a
// tag are left alone.
//
// An attribute that is null, or absent from obj, leaves its field as it
// was: set defaults in target before calling Decode. A null or absent obj
// (cty.NilVal) leaves every field. Attributes no field names are ignored.
//
// fanout sends every attribute the Schema declares, null when not set, with
// the declared type and required ones present, so an error here means the
// struct and the Schema disagree: a bug in the plugin. The error names the
// attribute.
func Decode(obj cty.Value, target any) error {
	rv := reflect.ValueOf(target)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("decode: target must be a non-nil pointer to a struct, not %T", target)
	}
	if obj == cty.NilVal || obj.IsNull() {
		return nil
	}
	obj, _ = obj.UnmarkDeep()
	if !obj.IsKnown() {
		return errors.New("decode: the object is unknown")
	}
	if !obj.Type().IsObjectType() {
		return fmt.Errorf("decode: want an object, not %s", obj.Type().FriendlyName())
	}
	st := rv.Elem()
	for i := range st.NumField() {
		f := st.Type().Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("cty"), ",")
		if name == "" || name == "-" || !f.IsExported() || !obj.Type().HasAttribute(name) {
			continue
		}
		v := obj.GetAttr(name)
		if v.IsNull() {
			continue
		}
		if !v.IsWhollyKnown() {
			return fmt.Errorf("decode attribute %q: the value is unknown", name)
		}
		if err := gocty.FromCtyValue(v, st.Field(i).Addr().Interface()); err != nil {
			return fmt.Errorf("decode attribute %q: %w", name, err)
		}
	}
	return nil
}
