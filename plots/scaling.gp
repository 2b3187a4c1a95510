# Scaling: time per entry against region size (left) and against the swapped fraction
# (right), one line per kernel and memory kind.  Variables: gpdir, datadir, outfile, term,
# nsize, nswap.
load gpdir.'/common.gp'
set multiplot layout 1,2 title 'pagemap read cost: scaling' font ',14'
set key inside left top font ',9'
set ylabel 'time per entry (ns, median and 95% CI)'
if (nsize > 0) {
	set title 'against region size'
	set logscale x 2
	set format x '%g'
	set xlabel 'region size (pages of 4 KiB)'
	plot for [i=0:nsize-1] datadir.'/scale-size.dat' index i using 1:2:3:4 with yerrorlines lc i+1 pt 7 ps 0.7 title columnheader(1)
} else {
	set title 'against region size: no data'
	unset key
	plot NaN notitle
	set key
}
unset logscale x
if (nswap > 0) {
	set title 'against swapped fraction'
	set xlabel 'swapped pages (% of dirtied pages)'
	set xrange [-5:105]
	plot for [i=0:nswap-1] datadir.'/scale-swapped.dat' index i using 1:2:3:4 with yerrorlines lc i+1 pt 7 ps 0.7 title columnheader(1)
} else {
	set title 'against swapped fraction: no data'
	unset key
	plot NaN notitle
}
unset multiplot
