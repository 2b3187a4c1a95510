# Grouped bars: median time per entry for each memory kind x scan method (the largest batch
# of each method, the kind's representative case), one bar per kernel with its 95% CI.
# Variables: gpdir, datadir, outfile, term, nsrc.
load gpdir.'/common.gp'
f = datadir.'/bars.dat'
set title 'pagemap read cost per memory kind and scan method' font ',14'
set style data histograms
set style histogram errorbars gap 1.5 lw 1
set style fill solid 0.75 border lc rgb '#333333'
set boxwidth 0.9
set logscale y 10
set format y '%g'
set yrange [1:*]
set ylabel 'time per entry (ns, median and 95% CI; sparse: per read)'
set xlabel 'memory kind / scan method'
set xtics rotate by -30 nomirror noenhanced
set grid noxtics
set key inside left top
plot for [s=0:nsrc-1] f using (column(2+3*s)):(column(3+3*s)):(column(4+3*s)):xtic(1) title columnheader(2+3*s)
