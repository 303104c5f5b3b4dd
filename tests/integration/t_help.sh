# `hull --help`, `hull VERB --help` and docs/hull.md against the getopt
# tables in cmd/*.c (and the VMM's, microvm/vmm_cli.c): every option a table
# accepts is named in its verb's help and in its verb's entry of the manual,
# and a verb's help names no option that neither it nor the globals accept.

# help_tables: "KEY OPTION" for every long option of every getopt table; KEY
# is the table's name at file scope, else the function it is declared in.
help_tables() {
	awk '
	/^[a-z].*[ *][a-z_0-9]+\(/ && !/;[ \t]*$/ {
		fn = $0; sub(/\(.*/, "", fn); sub(/.*[ *]/, "", fn)
	}
	/struct option [a-z_]+\[\] = \{/ {
		t = $0; sub(/\[\].*/, "", t); sub(/.*struct option /, "", t)
		key = (t == "opts") ? fn : t; intab = 1
	}
	intab {
		s = $0
		while (match(s, /\{ *"[a-z0-9-]+"/)) {
			o = substr(s, RSTART, RLENGTH); sub(/\{ *"/, "", o); sub(/"$/, "", o)
			print key, o
			s = substr(s, RSTART + RLENGTH)
		}
	}
	intab && /\};/ { intab = 0 }
	' "$HULL_SRC"/cmd/*.c "$HULL_SRC/microvm/vmm_cli.c"
}

# help_verbs_of KEY: the verbs a table serves (GLOBAL: hull's own options).
# A new table must be added here: the test fails on one it does not know.
help_verbs_of() {
	case $1 in
	create_opts) echo create run ;;
	cmd_run_image) echo run ;;
	ct_opts) echo ct ;;
	parse) echo image ;;          # cmd_image.c
	parse_globals) echo GLOBAL ;;
	update_opts) echo update ;;
	vmm_cli) echo vmm ;;
	cmd_*) echo "${1#cmd_}" ;;
	*) echo UNKNOWN ;;
	esac
}

# In a shared table, but refused by this verb (test_create_refuses_run_options).
help_exempt() {
	case "$1:$2" in
	create:detach | create:keep) return 0 ;;
	esac
	return 1
}

help_text_of() {
	if [ "$1" = GLOBAL ]; then "$HULL" --help; else "$HULL" "$1" --help; fi
}

# doc_entry_of VERB: the manual's entries for VERB (an entry starts with a
# line "`VERB ..." or one listing "..., `VERB ...", and runs to the next
# entry); run's "[create options]" brings create's in; GLOBAL: the synopsis
# and the global options.
doc_entry_of() {
	awk -v v="$1" '
	/^## / { sec = $0; inent = 0 }
	v == "GLOBAL" { if (sec == "## SYNOPSIS" || sec == "## GLOBAL OPTIONS") print; next }
	sec == "## COMMANDS" && /^`/ {
		inent = ($0 ~ ("^`" v "[ `]") || $0 ~ (", `" v "[ `]"))
		if (v == "run" && $0 ~ /^`create[ `]/) inent = 1
	}
	inent { print }
	' "$HULL_SRC/docs/hull.md"
}

# names_opt TEXT OPT: TEXT names --OPT (not merely a longer --OPT-x)
names_opt() { printf '%s\n' "$1" | grep -Eq -- "--$2([^a-z0-9-]|\$)"; }

test_help_every_verb() {
	local verbs v out rc bad=0 key opt tables
	miss() { fail "$@" || true; bad=1; }
	verbs=$("$HULL" --help | awk '/^Commands:/ { c = 1; next } c && /^  [a-z]/ { print $1 }' | tr '\n' ' ')
	[ -n "$verbs" ] || fail "no commands in hull --help"
	for v in $verbs; do
		set +e; out=$("$HULL" "$v" --help 2>&1); rc=$?; set -e
		[ "$rc" -eq 0 ] || miss "hull $v --help: exit $rc"
		case "$out" in "usage: hull $v"*) ;; *) miss "hull $v --help: $out" ;; esac
		[ -n "$(doc_entry_of "$v")" ] || miss "docs/hull.md has no entry for $v"
	done
	tables=$(help_tables)
	[ "$(printf '%s\n' "$tables" | wc -l)" -gt 50 ] || fail "read too few options: $tables"
	while read -r key opt; do
		[ "$opt" = help ] && continue   # main.c answers --help for every verb
		for v in $(help_verbs_of "$key"); do
			[ "$v" != UNKNOWN ] || { miss "getopt table $key: which verb? (help_verbs_of)"; continue; }
			help_exempt "$v" "$opt" && continue
			case " GLOBAL $verbs " in
			*" $v "*) ;;
			*) miss "table $key: verb $v is not in hull --help"; continue ;;
			esac
			names_opt "$(help_text_of "$v")" "$opt" ||
				miss "hull $([ "$v" = GLOBAL ] || echo "$v ")--help does not name --$opt"
			names_opt "$(doc_entry_of "$v")" "$opt" ||
				miss "docs/hull.md's entry for $v does not name --$opt"
		done
	done <<< "$tables"
	# the other way: a verb's help names only options that it (or hull) takes
	for v in $verbs; do
		for opt in $("$HULL" "$v" --help | grep -o -- '--[a-z][a-z0-9-]*' | sort -u); do
			opt=${opt#--}
			printf '%s\n' "$tables" | while read -r key o; do
				[ "$o" != "$opt" ] || help_verbs_of "$key" | tr ' ' '\n'
			done | grep -Eqx "$v|GLOBAL" ||
				miss "hull $v --help names --$opt, which no table of $v accepts"
		done
	done
	return $bad
}

test_create_refuses_run_options() {
	local log=$TESTROOT/create.$IDPREFIX.log
	make_bundle "$B" true
	for o in --detach --keep; do
		# stdio to a file: a create that wrongly succeeds leaves a process
		# holding it (run.sh's cleanup deletes that container)
		set +e; ht create $o --bundle "$B" "${IDPREFIX}a" </dev/null >"$log" 2>&1; rc=$?; set -e
		expect_eq "create $o: exit" "$rc" 1
		expect_contains "create $o" "$(cat "$log")" "unknown option $o"
	done
	state_empty
}
