#!/bin/bash
# Seed corpus for router_fuzz from the Docker 20.10 wire capture: every request Docker sent, alone
# (req-NNN-Method), each command's requests in order (cmd-NNN) and each scenario's whole sequence
# (scenario-X, cut at 64 requests as the fuzzer runs at most 64). The capture's test plugin named
# its address space "testlocal" and its pools "testpool-...": they become mvlan's own, so the
# sequences reach past RequestPool into addresses, endpoints and joins.
# usage: make_seeds.sh CAPTURE OUTDIR
set -euo pipefail
capture=$1 out=$2
rm -rf "$out"
mkdir -p "$out"
sed -e 's/"testlocal"/"LocalDefault"/g' \
    -e 's#testpool-\([^"-]*\)-\([^"]*\)#LocalDefault/\1/\2#g' \
    -e 's#testpool-#LocalDefault/#g' "$capture" |
  awk -v out="$out" '
    /^SCENARIO [A-Z]:/ { scenario = substr($2, 1, 1); in_scenario = 0 }
    /^### / { cmd++ }
    /^-> POST \// {
      method = substr($3, 2)
      body = $0
      sub(/^-> POST [^ ]+ ?/, "", body)
      if (body == "(empty body)") body = ""
      line = body == "" ? method : method " " body
      n++
      printf "%s\n", line > sprintf("%s/req-%03d-%s", out, n, method)
      printf "%s\n", line >> sprintf("%s/cmd-%03d", out, cmd)
      if (scenario != "" && seq[scenario]++ < 64) printf "%s\n", line >> sprintf("%s/scenario-%s", out, scenario)
    }
  '
echo "router_fuzz seeds: $(ls "$out" | wc -l) files in $out"
