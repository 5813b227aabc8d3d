#!/bin/sh
# PNG charts of the benchmark rows, drawn by gnuplot (Debian gnuplot-nox)
# from the same results.tsv as the report: no figure is typed here.
#
#   test/bench/charts.sh [RESULTS.TSV [OUTDIR]]
#
#   ratios.png  every row measured beside a reference: ours / reference,
#               one bar per row, coloured by verdict (pass, FAIL, info),
#               with the line at 1.0 (as fast, as large as the reference)
#   size.png    the size series: stripped binary per target and code per
#               module, each beside its budget (the row's max= check)
#
# Prints the path of each chart written.  Exit 2 when gnuplot is missing.
set -u
tsv=${1:-build/bench/results.tsv}
out=${2:-$(dirname "$tsv")}
command -v gnuplot >/dev/null || { echo "charts.sh: gnuplot is not installed (gnuplot-nox)" >&2; exit 2; }
[ -f "$tsv" ] || { echo "charts.sh: $tsv missing" >&2; exit 2; }
mkdir -p "$out"
tmp=$(mktemp -d /tmp/dmqtt-bench-charts.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# bar colours by verdict (0xRRGGBB as gnuplot's "rgb variable" wants them)
colour='function colour(v) { return v == "pass" ? 3050327 : v == "FAIL" ? 12597547 : 8359053 }'

# ---- ratios: rows with a reference and a numeric ratio, in report order
# (drawn from the top down); label: metric, unit, and which way is better
awk -F'\t' "$colour"'
	$3 != "-" && $5 != "-" && $5 != "" {
		better = ($4 ~ /\/s$/) ? "higher is better" : "lower is better"
		n++; lab[n] = $1 " [" $4 ", " better "]"; r[n] = $5 + 0; v[n] = $7
	}
	END { for (i = 1; i <= n; i++)
		printf "%d\t%s\t%.4f\t%d\t%s\n", n - i, lab[i], r[i], colour(v[i]), v[i] }' "$tsv" >"$tmp/ratios.dat"
rows=$(wc -l <"$tmp/ratios.dat")
if [ "$rows" -gt 0 ]; then
	height=$((160 + 26 * rows))
	gnuplot <<EOF || { echo "charts.sh: gnuplot failed (ratios)" >&2; exit 1; }
set terminal pngcairo noenhanced size 1400,$height font "DejaVu Sans,10"
set output "$out/ratios.png"
set datafile separator "\t"
set title "dmqtt / reference, measured in the same run (bar colour: green pass, red missed target, grey report only)"
set xlabel "ratio ours / reference"
set xrange [0:*]
set yrange [-0.7:$rows - 0.3]
set ytics scale 0 font ",9"
set grid xtics
set key off
set style fill solid 0.85 noborder
set style textbox opaque noborder margins 1,1
set arrow from 1, graph 0 to 1, graph 1 nohead back dt 2 lw 1.5 lc rgb "black"
plot "$tmp/ratios.dat" using (\$3 / 2):1:(\$3 / 2):(0.35):4:ytic(2) with boxxyerror lc rgb variable, \
     "" using 3:1:(sprintf("%.2f", \$3)) with labels left offset 0.5,0 boxed font ",9"
EOF
	echo "$out/ratios.png"
fi

# ---- size: stripped binary per target, code per module, with budgets
awk -F'\t' "$colour"'
	$4 == "bytes" {
		b = "-"; if ($6 ~ /^max=/) b = substr($6, 5) / 1024
		f = ($1 ~ /^stripped size/) ? "targets" : "modules"
		lab = $1; sub(/^stripped size, /, "", lab); sub(/^code of /, "", lab); sub(/ \(.*/, "", lab)
		n[f]++
		printf "%d\t%s\t%.1f\t%s\t%d\n", n[f] - 1, lab, $2 / 1024, b, colour($7) >("'"$tmp"'/" f ".dat")
	}' "$tsv"
if [ -s "$tmp/targets.dat" ] || [ -s "$tmp/modules.dat" ]; then
	touch "$tmp/targets.dat" "$tmp/modules.dat"
	gnuplot <<EOF || { echo "charts.sh: gnuplot failed (size)" >&2; exit 1; }
set terminal pngcairo noenhanced size 1200,520 font "DejaVu Sans,10"
set output "$out/size.png"
set datafile separator "\t"
set datafile missing "-"
set style fill solid 0.85 noborder
set key below
set grid ytics
set yrange [0:*]
set offsets 0.6, 0.6, graph 0.1, 0
set multiplot layout 1,2 title "Size against budget (bars: measured, colour by verdict; red line: budget from the issues)"
set title "stripped dmqtt per target"
set ylabel "KiB"
plot "$tmp/targets.dat" using 1:3:(0.6):5:xtic(2) with boxes lc rgb variable notitle, \
     "" using 1:3:(sprintf("%.1f", \$3)) with labels offset 0,0.7 notitle, \
     "" using 1:4:(0.35) with xerrorbars pt -1 lw 3 lc rgb "#c0392b" title "budget", \
     "" using (\$1 + 0.37):4:(sprintf("%.0f", \$4)) with labels left tc rgb "#c0392b" notitle
set title "code per module (aarch64 -Os, text+data)"
plot "$tmp/modules.dat" using 1:3:(0.6):5:xtic(2) with boxes lc rgb variable notitle, \
     "" using 1:3:(sprintf("%.1f", \$3)) with labels offset 0,0.7 notitle, \
     "" using 1:4:(0.35) with xerrorbars pt -1 lw 3 lc rgb "#c0392b" title "budget", \
     "" using (\$1 + 0.37):4:(sprintf("%.0f", \$4)) with labels left tc rgb "#c0392b" notitle
unset multiplot
EOF
	echo "$out/size.png"
fi
