# shellcheck shell=bash
# Figures for the bench section scripts; samples are integers (microseconds).

# median N...: the middle sample (the lower of the two middle ones for an even count).
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# ratio A B: A/B with three decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
# ms US: microseconds as milliseconds with one decimal.
ms() { awk -v u="$1" 'BEGIN { printf "%.1f", u / 1000 }'; }
# json_ms US...: a JSON array of the samples in milliseconds.
json_ms() { printf '%s\n' "$@" | awk 'BEGIN { printf "[" } { printf "%s%.3f", (NR > 1 ? "," : ""), $1 / 1000 } END { print "]" }'; }
