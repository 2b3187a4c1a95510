# Sparse reads (one 8-byte entry per read): the CDF of their latency, one line per kernel
# and memory kind.  Variables: gpdir, datadir, outfile, term, ncdf.
load gpdir.'/common.gp'
f = datadir.'/cdf.dat'
set title 'sparse pagemap reads: latency CDF' font ',14'
set logscale x 10
set format x '%g'
set xlabel 'time per read (ns)'
set ylabel 'fraction of reads'
set yrange [0:1.02]
# Curves rise at the left and flatten at the top: the legend goes where they are not.
set key inside right bottom opaque box lc rgb '#cccccc'
plot for [i=0:ncdf-1] f index i using 1:2 with steps lc i+1 lw 1.5 title columnheader(1)
