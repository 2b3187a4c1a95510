# Shared look of every pagemap-bench plot.  Called with datadir, outfile and term set.
if (term eq 'png') {
	set terminal pngcairo size 1100,800 enhanced font 'DejaVu Sans,12' linewidth 1.5
} else {
	set terminal svg size 1100,800 enhanced font 'DejaVu Sans,12' linewidth 1.5 background '#ffffff'
}
set output outfile
set grid xtics ytics mxtics mytics lc rgb '#dddddd'
set key outside right top vertical Left reverse noenhanced samplen 2 spacing 1.1 font ',10'
set style fill transparent solid 0.18 noborder
set datafile missing '?'
