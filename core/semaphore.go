package core

// semaphore limits how many goroutines hold it at once: one per parallelize
// block (its threads) and one per task (its max_hosts). The holder acquires
// it before starting the goroutine that will release it, so a window slides:
// the next member starts the moment any running one finishes.
type semaphore chan struct{}

// newSemaphore returns a semaphore of n slots; n must be at least 1.
func newSemaphore(n int) semaphore {
	if n < 1 {
		panic("core: semaphore of fewer than 1 slot")
	}
	return make(semaphore, n)
}

// acquire blocks until a slot is free.
func (s semaphore) acquire() { s <- struct{}{} }

// release frees a slot; releasing more than was acquired is a bug.
func (s semaphore) release() {
	select {
	case <-s:
	default:
		panic("core: semaphore released more than acquired")
	}
}
