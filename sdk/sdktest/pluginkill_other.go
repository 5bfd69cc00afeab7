//go:build !linux

package sdktest

func procReadable() bool   { return false }
func processRuns(int) bool { return false }
func killProcess(int)      {}
