package main

import (
	"os"
	"strings"

	"github.com/fanout/fanout/cmd/fanout/internal/arguments"
	"github.com/fanout/fanout/config"
)

// runCompletion prints the completion script of a shell. The scripts ask
// `fanout __names PATH` for the task and group names of the configuration
// already on the line, so they stay right as the configuration changes.
func runCompletion(args []string, s *streams) int {
	a, err := arguments.ParseCompletion(args)
	if code, ok := parseArgs(err, s, "completion"); !ok {
		return code
	}
	printf(s.Out, "%s", strings.ReplaceAll(completionScripts[a.Shell], "@COMMANDS@", visibleCommands()))
	return exitOK
}

// runNames prints the task and labelled group names of a configuration,
// one a line, for completion. It says nothing about errors: a half-written
// configuration still completes what can be read.
func runNames(args []string, s *streams) int {
	if len(args) != 1 {
		return exitUsage
	}
	dir, path := fsPath(args[0])
	cfg, _ := config.NewParser(os.DirFS(dir)).LoadConfig(path, config.LoadOptions{})
	if cfg == nil {
		return exitOK
	}
	for _, t := range cfg.Tasks {
		printf(s.Out, "%s\n", t.Name)
	}
	for _, g := range cfg.Groups {
		if g.Name != "" {
			printf(s.Out, "%s\n", g.Name)
		}
	}
	return exitOK
}

// completionScripts are the scripts by shell; @COMMANDS@ stands for the
// command table's visible names.
var completionScripts = map[string]string{
	"bash": `# bash completion for fanout: source <(fanout completion bash)
_fanout() {
  local cur prev cmd cfg i
  cur=${COMP_WORDS[COMP_CWORD]}
  prev=${COMP_WORDS[COMP_CWORD-1]}
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "@COMMANDS@" -- "$cur"))
    return
  fi
  cmd=${COMP_WORDS[1]}
  case "$prev" in
    -var-file|-html|-o) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    -var|-limit|-exclude|-on|-hosts|-threads|-timeout|-l|-sudo-user) return ;;
  esac
  case "$cmd" in
    completion) COMPREPLY=($(compgen -W "bash zsh fish" -- "$cur")); return ;;
  esac
  if [[ "$cur" == -* ]]; then
    case "$cmd" in
      plan) COMPREPLY=($(compgen -W "-var -var-file -limit -exclude -json -no-color -help" -- "$cur")) ;;
      apply) COMPREPLY=($(compgen -W "-var -var-file -limit -exclude -json -quiet -group -html -no-color -help" -- "$cur")) ;;
      exec) COMPREPLY=($(compgen -W "-on -hosts -l -A -raw -threads -timeout -preflight -sudo -sudo-user -var -var-file -limit -exclude -json -quiet -group -pipe -no-color -help" -- "$cur")) ;;
      validate) COMPREPLY=($(compgen -W "-var -var-file -json -no-color -help" -- "$cur")) ;;
      fmt) COMPREPLY=($(compgen -W "-check -recursive -help" -- "$cur")) ;;
      rollback) COMPREPLY=($(compgen -W "-dry-run -auto-approve -force -var -var-file -no-color -help" -- "$cur")) ;;
      runs) COMPREPLY=($(compgen -W "-html -o -no-color -help" -- "$cur")) ;;
      plugins) COMPREPLY=($(compgen -W "-var -var-file -update-pins -json -no-color -help" -- "$cur")) ;;
    esac
    return
  fi
  # The first word that is not a flag or a flag's value is the configuration.
  cfg=
  for ((i = 2; i < COMP_CWORD; i++)); do
    case "${COMP_WORDS[i]}" in
      -var|-var-file|-limit|-exclude|-on|-hosts|-threads|-timeout|-html|-o|-l|-sudo-user) i=$((i + 1)) ;;
      -*) ;;
      *) cfg=${COMP_WORDS[i]}; break ;;
    esac
  done
  if [ -n "$cfg" ] && [ "$cmd" = plan -o "$cmd" = apply ]; then
    COMPREPLY=($(compgen -W "$(fanout __names "$cfg" 2>/dev/null)" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -X '!*.hcl' -- "$cur") $(compgen -d -- "$cur"))
  fi
}
complete -o filenames -F _fanout fanout
`,
	"zsh": `#compdef fanout
# zsh completion for fanout: fanout completion zsh > "${fpath[1]}/_fanout"
_fanout_names() {
  local cfg=${words[(r)*.hcl]}
  [[ -n $cfg ]] && compadd -- ${(f)"$(fanout __names $cfg 2>/dev/null)"}
}
_fanout() {
  local -a common
  common=(
    '*-var[set a variable]:NAME=VALUE:'
    '*-var-file[set variables from a file]:file:_files'
    '-no-color[disable colours]'
    '-json[JSON output]'
    '-help[show help]'
  )
  local -a select
  select=('*-limit[only these hosts]:pattern:' '*-exclude[never these hosts]:pattern:')
  if (( CURRENT == 2 )); then
    _values command @COMMANDS@
    return
  fi
  case $words[2] in
    plan) _arguments $common $select '1:configuration:_files -g "*.hcl(-.) *(-/)"' '*:name:_fanout_names' ;;
    apply) _arguments $common $select '-quiet[only failures and the recap]' '-group[fold identical output]' \
      '-html[write the run timeline to a file]:file:_files' '1:configuration:_files -g "*.hcl(-.) *(-/)"' '*:name:_fanout_names' ;;
    exec) _arguments $common $select '*-on[these roles, hosts or nodesets]:pattern:' '-hosts[a nodeset, no configuration]:nodeset:' \
      '-threads[hosts at once]:number:' '-timeout[per host]:duration:' '-preflight[connect every host first]' \
      '-quiet[only failures and the recap]' '-group[fold identical output]' '-pipe[output for a pipe, as pdsh]' '1:configuration:_files -g "*.hcl(-.) *(-/)"' ;;
    validate) _arguments $common '1:configuration:_files -g "*.hcl(-.) *(-/)"' ;;
    fmt) _arguments '-check[list unformatted files, exit 3]' '-recursive[also subdirectories]' '*:path:_files -g "*.hcl(-.) *(-/)"' ;;
    completion) _values shell bash zsh fish ;;
  esac
}
compdef _fanout fanout
`,
	"fish": `# fish completion for fanout: fanout completion fish > ~/.config/fish/completions/fanout.fish
function __fanout_config
    for w in (commandline -opc)[3..-1]
        if string match -qr '\.hcl$' -- $w; or test -d $w
            echo $w
            return
        end
    end
end
function __fanout_names
    set -l cfg (__fanout_config)
    test -n "$cfg"; and fanout __names $cfg 2>/dev/null
end
complete -c fanout -f
complete -c fanout -n __fish_use_subcommand -a '@COMMANDS@'
complete -c fanout -n '__fish_seen_subcommand_from plan apply exec validate' -o var -r -d 'set a variable NAME=VALUE'
complete -c fanout -n '__fish_seen_subcommand_from plan apply exec validate' -o var-file -r -F -d 'variables file'
complete -c fanout -n '__fish_seen_subcommand_from plan apply exec validate' -o json -d 'JSON output'
complete -c fanout -n '__fish_seen_subcommand_from plan apply exec validate' -o no-color -d 'disable colours'
complete -c fanout -n '__fish_seen_subcommand_from plan apply exec' -o limit -r -d 'only these hosts'
complete -c fanout -n '__fish_seen_subcommand_from plan apply exec' -o exclude -r -d 'never these hosts'
complete -c fanout -n '__fish_seen_subcommand_from apply exec' -o quiet -d 'only failures and the recap'
complete -c fanout -n '__fish_seen_subcommand_from apply exec' -o group -d 'fold identical output'
complete -c fanout -n '__fish_seen_subcommand_from exec' -o pipe -d 'output for a pipe, as pdsh'
complete -c fanout -n '__fish_seen_subcommand_from apply' -o html -r -F -d 'write the run timeline to a file'
complete -c fanout -n '__fish_seen_subcommand_from exec' -o on -r -d 'these roles, hosts or nodesets'
complete -c fanout -n '__fish_seen_subcommand_from exec' -o hosts -r -d 'a nodeset, no configuration'
complete -c fanout -n '__fish_seen_subcommand_from exec' -o threads -r -d 'hosts at once'
complete -c fanout -n '__fish_seen_subcommand_from exec' -o timeout -r -d 'per host'
complete -c fanout -n '__fish_seen_subcommand_from exec' -o preflight -d 'connect every host first'
complete -c fanout -n '__fish_seen_subcommand_from fmt' -o check -d 'list unformatted files, exit 3'
complete -c fanout -n '__fish_seen_subcommand_from fmt' -o recursive -d 'also subdirectories'
complete -c fanout -n '__fish_seen_subcommand_from completion' -a 'bash zsh fish'
complete -c fanout -n '__fish_seen_subcommand_from plan apply exec validate fmt; and not test -n "(__fanout_config)"' -a '(__fish_complete_suffix .hcl)'
complete -c fanout -n '__fish_seen_subcommand_from plan apply; and test -n "(__fanout_config)"' -a '(__fanout_names)'
`,
}
