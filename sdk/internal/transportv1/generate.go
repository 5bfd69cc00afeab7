// Package transportv1 holds the fanout transport protocol, version 1: the
// protobuf definition in transport.proto and the Go code generated from it.
// It is internal because only package sdk maps it to the public Go contract;
// authors of plugins in other languages copy transport.proto instead.
//
// The generated files are committed so that building needs no protoc.
// Regenerate them after editing transport.proto with `go generate` here (or
// `make proto` at the top), which needs protoc, protoc-gen-go and
// protoc-gen-go-grpc on PATH (Debian: apt-get install protobuf-compiler
// protoc-gen-go protoc-gen-go-grpc).
package transportv1

//go:generate protoc --proto_path=. --go_out=. --go_opt=paths=source_relative --go-grpc_out=. --go-grpc_opt=paths=source_relative transport.proto
