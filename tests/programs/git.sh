#!/bin/sh
# git on the malloc shim: a repository of many commits made by
# fast-import, a few by porcelain commands, repacked, then
# git fsck --full --strict, and the history and contents checked.
. "$(dirname "$0")/lib.sh"
need git git
N=1500

if phase setup; then
	# a fast-import stream: N commits, each changing two of 50 files
	awk -v n=$N 'BEGIN {
		for (i = 1; i <= n; i++) {
			printf "commit refs/heads/main\nmark :%d\n", i
			printf "committer kmm <kmm@example.org> %d +0000\n", 1700000000 + i
			msg = sprintf("commit %d", i)
			printf "data %d\n%s\n", length(msg), msg
			if (i > 1) printf "from :%d\n", i - 1
			for (f = 0; f < 2; f++) {
				file = (i * 7 + f * 13) % 50
				body = ""
				for (l = 0; l < 20 + i % 30; l++) body = body sprintf("line %d of file %d at commit %d\n", l, file, i)
				printf "M 100644 inline dir%d/file%d.txt\ndata %d\n%s\n", file % 5, file, length(body), body
			}
		}
	}' >"$WORK/stream"
fi

if phase run; then
	repo="$WORK/repo"
	rm -rf "$repo"
	export GIT_CONFIG_NOSYSTEM=1 HOME="$WORK" GIT_AUTHOR_NAME=kmm GIT_AUTHOR_EMAIL=kmm@example.org \
		GIT_COMMITTER_NAME=kmm GIT_COMMITTER_EMAIL=kmm@example.org
	on_kmm git init -q -b main "$repo"
	on_kmm git -C "$repo" fast-import --quiet <"$WORK/stream"
	on_kmm git -C "$repo" checkout -q main
	for i in 1 2 3 4 5; do
		echo "porcelain $i" >"$repo/extra$i.txt"
		on_kmm git -C "$repo" add "extra$i.txt"
		on_kmm git -C "$repo" commit -q -m "porcelain $i"
	done
	on_kmm git -C "$repo" repack -adq
	on_kmm git -C "$repo" fsck --full --strict --no-progress >"$WORK/fsck.out" 2>&1
	on_kmm git -C "$repo" rev-list --count HEAD >"$WORK/count"
	on_kmm git -C "$repo" log --format=%s -n 1 HEAD~5 >"$WORK/msg"
	on_kmm git -C "$repo" show HEAD~5:dir0/file0.txt >"$WORK/file0" 2>/dev/null || true
fi

if phase verify; then
	expect_eq "fsck output" "$(cat "$WORK/fsck.out")" ""
	expect_eq "commits" "$(cat "$WORK/count")" $((N + 5))
	expect_eq "message of HEAD~5" "$(cat "$WORK/msg")" "commit $N"
	# the last commit that touched file0 wrote its line 0
	last=$(awk -v n=$N 'BEGIN { for (i = n; i >= 1; i--) for (f = 0; f < 2; f++) if ((i * 7 + f * 13) % 50 == 0) { print i; exit } }')
	expect_eq "file0 line 1" "$(head -1 "$WORK/file0")" "line 0 of file 0 at commit $last"
fi
