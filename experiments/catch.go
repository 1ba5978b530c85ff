package experiments

import (
	"fmt"
	"runtime/debug"
)

// panicError is a panic turned into an error at the driver's boundary
// (GoMLX panics while building graphs); Stack is kept for the run log.
type panicError struct {
	Value any
	Stack string
}

func (e *panicError) Error() string { return fmt.Sprint(e.Value) }

// Unwrap exposes a panicked error.
func (e *panicError) Unwrap() error {
	if err, ok := e.Value.(error); ok {
		return err
	}
	return nil
}

// catch runs fn, turning a panic into a *panicError.
func catch(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &panicError{Value: r, Stack: string(debug.Stack())}
		}
	}()
	return fn()
}
