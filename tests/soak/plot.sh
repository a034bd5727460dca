#!/bin/sh
# Draws the samples of a soak (samples.csv of tests/soak/soak.sh) as an SVG
# on stdout: the RSS and PSS of the web process and of the collector, and
# both processes' fds and threads, each panel scaled to its own range so
# that a slow growth shows.
#
#     tests/soak/plot.sh samples.csv TITLE >soak.svg
set -eu
[ $# = 2 ] || {
	echo "usage: plot.sh samples.csv TITLE" >&2
	exit 2
}
awk -F, -v title="$2" '
NR == 1 { next }
{ n++; t[n] = $1; for (c = 2; c <= 11; c++) v[c, n] = $c; if ($1 > tmax) tmax = $1 }
# panel(Y0, H, UNIT, SCALE, COLUMNS, COLORS, LABELS): the columns (space
# separated) divided by SCALE, between their least and largest value.
function panel(y0, h, unit, scale, cols, colors, labels,   nc, c, cl, lb, i, j, lo, hi, k, pts) {
	nc = split(cols, c, " "); split(colors, cl, " "); split(labels, lb, "|")
	lo = ""; hi = ""
	for (j = 1; j <= nc; j++) for (i = 1; i <= n; i++) {
		x = v[c[j], i] / scale
		if (lo == "" || x < lo) lo = x
		if (hi == "" || x > hi) hi = x
	}
	if (hi - lo < 1e-9) { lo -= 1; hi += 1 }
	pad = (hi - lo) * 0.1; lo -= pad; hi += pad
	if (lo < 0) lo = 0
	printf "<rect x=\"70\" y=\"%d\" width=\"600\" height=\"%d\" fill=\"none\" stroke=\"#999\"/>\n", y0, h
	for (k = 0; k <= 4; k++)
		printf "<text x=\"65\" y=\"%.1f\" text-anchor=\"end\">%.4g</text>\n", y0 + h - k * h / 4 + 4, lo + (hi - lo) * k / 4
	printf "<text x=\"10\" y=\"%d\">%s</text>\n", y0 - 6, unit
	for (j = 1; j <= nc; j++) {
		pts = ""
		for (i = 1; i <= n; i++)
			pts = pts sprintf("%.1f,%.1f ", 70 + t[i] / tmax * 600, y0 + h - (v[c[j], i] / scale - lo) / (hi - lo) * h)
		printf "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"%s\"/>\n", cl[j], pts
		printf "<text x=\"680\" y=\"%d\" fill=\"%s\">%s</text>\n", y0 + 12 + (j - 1) * 16, cl[j], lb[j]
	}
}
END {
	if (tmax == 0) tmax = 1
	print "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"820\" height=\"820\" font-family=\"sans-serif\" font-size=\"12\">"
	print "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>"
	printf "<text x=\"70\" y=\"20\" font-size=\"14\">%s</text>\n", title
	panel(50, 100, "web RSS, MiB", 1024, "2", "#c00", "web RSS")
	panel(185, 100, "web PSS, MiB", 1024, "3", "#f80", "web PSS")
	panel(320, 100, "collector RSS, MiB", 1024, "7", "#00c", "collector RSS")
	panel(455, 100, "collector PSS, MiB", 1024, "8", "#0aa", "collector PSS")
	panel(590, 170, "count", 1, "4 5 9 10", "#c00 #f80 #00c #0a0", "web fds|web threads|collector fds|collector threads")
	printf "<text x=\"370\" y=\"805\" text-anchor=\"middle\">seconds (%d samples, every 10 s)</text>\n", n
	print "</svg>"
}' "$1"
