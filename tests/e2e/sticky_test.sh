#!/bin/bash
# Sticky addresses: engine 29 names the container in every RequestAddress, and mvlan binds the
# name to its address. Asserted on every engine generation: on 29 a container keeps its address
# across an engine restart, a plugin SIGKILL followed by an engine restart, and `docker rm -f web
# && docker run --name web`; a new name never gets a parked address while another is free; a pool full
# of parked names still serves new ones (the longest parked first); `--ipam-opt sticky=false`
# turns it off; `mvlan status` shows the bindings and `mvlan forget` drops a parked one. Engines
# 20.10 and 28.5 send no name: there the same steps assert today's behaviour (fresh addresses),
# so that a change on them is seen.
#
# Usage: tests/e2e/sticky_test.sh --mvlan build/mvlan [--engine 20|28|29]
source "$(dirname "$0")/lib.sh" "$@"

plugin_require
sticky=0
((E2E_ENGINE >= 29)) && sticky=1

step "setup: host h1 with a veth parent, an engine and the plugin"
host_create h1
veth_parent h1 p0
engine_start h1
plugin_start h1
assert_ok "network create lab" \
  dk h1 network create -d mvlan --ipam-driver mvlan --subnet 192.0.2.0/24 --gateway 192.0.2.1 -o parent=p0 lab

ips() { local c; for c in r1 r2 r3; do printf '%s=%s ' "$c" "$(ctr_ip h1 "$c" lab)"; done | sed 's/ $//'; }
# same_or_fresh WHAT BEFORE AFTER: on engine 29 the same addresses, on older engines none the same.
same_or_fresh() {
  local what=$1 before=$2 after=$3 c
  if ((sticky)); then
    assert_eq "$before" "$after" "$what: every container is back on its own address (sticky)"
  else
    for c in r1 r2 r3; do
      assert_ne "$(tr ' ' '\n' <<<"$before" | grep "^$c=")" "$(tr ' ' '\n' <<<"$after" | grep "^$c=")" \
        "$what: $c is on a fresh address (this engine does not name containers)"
    done
  fi
}
running_again() {
  local c
  for c in r1 r2 r3; do
    eventually 30 output_is true dk h1 inspect --format '{{.State.Running}}' "$c" ||
      fail "$c runs again" "expected: running" "seen: $(dk h1 inspect --format '{{.State.Status}} {{.State.Error}}' "$c" 2>&1)"
  done
  pass "r1, r2 and r3 run again"
}

step "three --restart=always containers"
for c in r1 r2 r3; do ctr_run h1 "$c" lab --restart=always; done
before=$(ips)
info "$before"
if ((sticky)); then
  for c in r1 r2 r3; do
    assert_eq "$c $(ctr_ip h1 "$c" lab) held" "$(status_bindings h1 | awk -v c="$c" '$1==c')" \
      "mvlan status: $c is bound to its address, held"
  done
else
  assert_empty "$(status_bindings h1)" "mvlan status: no binding (this engine sends no names)"
fi

step "the engine restarts (the plugin keeps running)"
engine_restart h1
running_again
after=$(ips)
info "$after"
same_or_fresh "engine restart" "$before" "$after"
before=$after

step "the plugin is SIGKILLed and started again, then the engine restarts"
plugin_restart h1
engine_restart h1
running_again
after=$(ips)
info "$after"
same_or_fresh "plugin SIGKILL + engine restart" "$before" "$after"
assert_unique "no address is held twice (gateway, r1-r3)" 192.0.2.1 $(tr ' ' '\n' <<<"$after" | cut -d= -f2)

step "docker rm -f web && docker run --name web; a new name meanwhile"
ctr_run h1 web lab
web0=$(ctr_ip h1 web lab)
assert_ok "rm -f web" dk h1 rm -f web
if ((sticky)); then
  assert_eq "web $web0 parked" "$(status_bindings h1 | awk '$1=="web"')" "mvlan status: web's address is parked for web"
fi
ctr_run h1 api lab
api0=$(ctr_ip h1 api lab)
assert_ne "$web0" "$api0" "the new name api does not get web's released address ($web0) while others are free"
ctr_run h1 web lab
web1=$(ctr_ip h1 web lab)
if ((sticky)); then
  assert_eq "$web0" "$web1" "the new web is back on web's address"
else
  assert_ne "$web0" "$web1" "the new web gets a fresh address (round-robin)"
fi
assert_ping h1 web "$api0"

step "mvlan forget: refused while a container holds the address, frees a parked one"
if ((sticky)); then
  assert_fails "forget web while web runs" "$MVLAN_BIN" forget web --state-dir "$(plugin_state_dir h1)"
  assert_contains "$E2E_OUT" "held by endpoint" "forget names the endpoint that holds web's address"
  assert_ok "rm -f api" dk h1 rm -f api
  assert_ok "forget api" "$MVLAN_BIN" forget api --state-dir "$(plugin_state_dir h1)"
  assert_contains "$E2E_OUT" "$api0" "forget says which address is free again"
  assert_empty "$(status_bindings h1 | awk '$1=="api"')" "mvlan status: api is bound no more"
  assert_not_contains "$(status_allocations h1 | awk '{print $1}')" "$api0" "api's address is free again"
else
  assert_ok "rm -f api" dk h1 rm -f api
fi

step "a small pool full of parked names still serves new ones, the longest parked first"
assert_ok "network create small" \
  dk h1 network create -d mvlan --ipam-driver mvlan --subnet 198.51.100.0/29 --gateway 198.51.100.1 -o parent=p0 small
declare -A s
for c in s1 s2 s3 s4 s5; do ctr_run h1 "$c" small; s[$c]=$(ctr_ip h1 "$c" small); done
assert_unique "s1-s5 fill the pool" 198.51.100.1 "${s[s1]}" "${s[s2]}" "${s[s3]}" "${s[s4]}" "${s[s5]}"
for c in s1 s2 s3 s4 s5; do assert_ok "rm -f $c" dk h1 rm -f "$c"; done
ctr_run h1 n1 small
n1=$(ctr_ip h1 n1 small)
assert_match '^198\.51\.100\.[2-6]$' "$n1" "n1 gets an address although every one was parked ($n1)"
if ((sticky)); then
  assert_eq "${s[s1]}" "$n1" "n1 gets s1's address, parked longest"
  ctr_run h1 s2 small
  assert_eq "${s[s2]}" "$(ctr_ip h1 s2 small)" "s2 is still back on its own address"
  ctr_run h1 s1 small
  s1=$(ctr_ip h1 s1 small)
  assert_ne "${s[s1]}" "$s1" "s1, whose address went to n1, gets another one ($s1)"
fi

step "--ipam-opt sticky=false: names are not bound"
assert_ok "network create plain" \
  dk h1 network create -d mvlan --ipam-driver mvlan --ipam-opt sticky=false --subnet 203.0.113.0/24 \
  --gateway 203.0.113.1 -o parent=p0 plain
ctr_run h1 zed plain
zed0=$(ctr_ip h1 zed plain)
assert_ok "rm -f zed" dk h1 rm -f zed
ctr_run h1 zed plain
assert_ne "$zed0" "$(ctr_ip h1 zed plain)" "zed gets a fresh address on a sticky=false network"
assert_fails "--ipam-opt sticky=maybe is refused" \
  dk h1 network create -d mvlan --ipam-driver mvlan --ipam-opt sticky=maybe --subnet 203.0.113.0/24 -o parent=p0 bad
assert_contains "$E2E_OUT" "true (default) and false" "the refusal names the valid values"

step "removal: nothing left"
assert_ok "remove the containers" dk h1 rm -f r1 r2 r3 web n1 s2 zed $( ((sticky)) && echo s1)
assert_ok "remove the networks" dk h1 network rm lab small plain
eventually 5 output_is "" links_of_type h1 macvlan || true
assert_empty "$(links_of_type h1 macvlan)" "no macvlan link left in h1"
assert_eq "0 0" "$(status_counts h1)" "mvlan status holds no pool and no network"
assert_empty "$(status_bindings h1)" "mvlan status holds no binding (they go with their network)"
