// Package nodeset reads and writes sets of host names in the nodeset
// syntax of clush and pdsh: "web[01-20,25],db1" is web01 to web20, web25
// and db1. Expand turns such a pattern into names, Fold turns names back
// into the shortest pattern of that form the views print.
//
// The syntax:
//   - a comma outside brackets separates patterns: "web1,db1";
//   - a bracket group holds a comma-separated list of numbers and ranges
//     ("[1-3,7]"); a range or a number written with a leading zero pads
//     every number it makes to that width ("[08-10]" is 08, 09, 10);
//   - a pattern may hold several bracket groups, which multiply:
//     "r[1-2]n[1-3]" is six names.
//
// The package knows nothing of hosts, roles or configurations: it only
// turns strings into strings, so that the CLI's -limit, the views and the
// configuration's functions read and print one syntax.
package nodeset
