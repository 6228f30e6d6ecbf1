package topic

import "context"

// The tests of package topic_test write in one step what the HTTP layer
// does in two (prepare before the store's lock, apply inside it).

// Replace is PrepareReplace and Apply in one step.
func (t *Topic) Replace(body []byte) ([]byte, error) {
	w, err := t.PrepareReplace(body)
	if err != nil {
		return nil, err
	}
	return w.Apply(context.Background(), nil)
}

// Merge is PreparePatch and Apply in one step, onto current (nil for the
// default document).
func (t *Topic) Merge(current, patch []byte) ([]byte, error) {
	w, err := t.PreparePatch(patch)
	if err != nil {
		return nil, err
	}
	return w.Apply(context.Background(), current)
}

// Apply is PrepareAction and Apply in one step, onto current (nil for the
// default document).
func (t *Topic) Apply(ctx context.Context, action string, current, input []byte) ([]byte, error) {
	w, err := t.PrepareAction(action, input)
	if err != nil {
		return nil, err
	}
	return w.Apply(ctx, current)
}

// Position returns where a syntax error was found, and what it is.
func (e *SyntaxError) Position() (offset int64, line, column int, detail string) {
	return e.offset, e.line, e.column, e.detail
}
