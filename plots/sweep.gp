# The batch sweep: ns/entry against entries per read (log-log), one line per kernel and
# memory kind with its 95% CI band; below it, CAND/BASE ratios with the published 2021
# ratios overlaid.  Variables (from pmbench plot): gpdir, datadir, outfile, term, nsweep,
# nratio, nref.
load gpdir.'/common.gp'
f = datadir.'/sweep.dat'
set logscale xy 2
set format x '%g'
# Both panels share one x extent (that of the measured sweep) and one left margin,
# wide enough for the y labels; the legends go to the right.
stats f using 1 nooutput
set xrange [(STATS_min < 1 ? STATS_min : 1):STATS_max * 1.1]
set xlabel 'batch size (pagemap entries per read)'
set lmargin at screen 0.11
set rmargin at screen 0.60
if (nratio + nref > 0) {
	set multiplot title 'pagemap read cost against batch size' font ',14'
	set size 1, 0.62
	set origin 0, 0.36
	set xlabel ''
	set bmargin 1
} else {
	set title 'pagemap read cost against batch size' font ',14'
}
set logscale y 10
set format y '%g'
set ylabel 'time per entry (ns, median and 95% CI)'
plot for [i=0:nsweep-1] f index i using 1:3:4 with filledcurves lc i+1 notitle, \
     for [i=0:nsweep-1] f index i using 1:2 with linespoints lc i+1 pt 7 ps 0.7 title columnheader(1)
if (nratio + nref > 0) {
	set size 1, 0.36
	set origin 0, 0
	set tmargin 1
	set bmargin 4
	set xlabel 'batch size (pagemap entries per read)'
	unset logscale y
	set logscale y 2
	set ylabel 'time ratio CAND/BASE'
	set yrange [*:*]
	r = datadir.'/ratio.dat'
	p = datadir.'/ref.dat'
	if (nratio > 0 && nref > 0) {
		plot 1 with lines lc rgb '#888888' dt 2 notitle, \
		     for [i=0:nratio-1] r index i using 1:2:3:4 with yerrorlines lc i+1 pt 7 ps 0.6 title columnheader(1), \
		     for [i=0:nref-1] p index i using 1:2 with linespoints lc rgb (i ? '#000000' : '#777777') dt 3 pt 6 title columnheader(1)
	}
	if (nratio > 0 && nref == 0) {
		plot 1 with lines lc rgb '#888888' dt 2 notitle, \
		     for [i=0:nratio-1] r index i using 1:2:3:4 with yerrorlines lc i+1 pt 7 ps 0.6 title columnheader(1)
	}
	if (nratio == 0) {
		set label 1 'single run: published ratios only' at graph 0.02, graph 0.12 font ',10'
		plot 1 with lines lc rgb '#888888' dt 2 notitle, \
		     for [i=0:nref-1] p index i using 1:2 with linespoints lc rgb (i ? '#000000' : '#777777') dt 3 pt 6 title columnheader(1)
	}
	unset multiplot
}
