// Package config turns fanout's HCL language into a typed, checked and
// evaluated configuration, or into hcl.Diagnostics that say what is wrong,
// where, and how to fix it.
//
// A Parser reads one .hcl file, or every .hcl file of a directory, from an
// io/fs.FS. Loading has two phases, as in Terraform: each file is decoded on
// its own (blocks, labels, attribute names, references kept unevaluated), then
// the files are merged into one Config, where names are checked for
// duplicates, variables get their values, locals and hosts are evaluated in
// dependency order, task attributes are evaluated, parallelize members are
// resolved, and cycles and roots are computed.
//
// What config does not do: it never runs a command, starts a process,
// contacts a host, reads the environment, or writes anything (files, stdout,
// logs). It knows nothing of transports beyond their names: the settings a
// transport plugin defines stay in Transport.Config and Host.Config as
// hcl.Body values, for the core to decode against the plugin's schema with
// Config.EvalContext.
//
// Every mistake in a configuration is an hcl.Diagnostic with the tightest
// source range; loading collects as many as it can and never panics on
// input. A panic means a bug in this package.
package config
