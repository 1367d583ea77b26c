# bench/plot.gp: latency against data size, from report.pl's plot.dat.
# gnuplot -e "outdir='bench/out/latest'" bench/plot.gp
# Single-statement framing, synchronous_commit off, the RLS process: pgbench
# per-script average latency (ms) of each implementation in the same phase.
if (!exists("outdir")) outdir = 'bench/out/latest'
set terminal pngcairo size 1500,520 font 'DejaVu Sans,10'
set output outdir.'/latency.png'
set multiplot layout 1,3 title "copass vs baselines: latency against data size (pgbench, 2+2 clients, 2 cores; same-phase scripts)"
set logscale x
set xlabel 'sandboxes'
set ylabel 'latency per transaction (ms)'
set yrange [0:*]
set grid
set key top left
set format x '10^{%L}'
set xrange [50000:20000000]
set title 'list by owner, 100 per owner'
plot outdir.'/plot.dat' using 1:2 with linespoints lw 2 pt 7 title 'copass', \
     '' using 1:3 with linespoints lw 2 pt 5 title 'raw index scan', \
     '' using 1:4 with linespoints lw 2 pt 9 title 'PL/pgSQL'
set title 'list by owner, 10 per owner'
plot outdir.'/plot.dat' using 1:5 with linespoints lw 2 pt 7 title 'copass', \
     '' using 1:6 with linespoints lw 2 pt 5 title 'raw index scan', \
     '' using 1:7 with linespoints lw 2 pt 9 title 'PL/pgSQL'
set title 'create'
plot outdir.'/plot.dat' using 1:8 with linespoints lw 2 pt 7 title 'copass', \
     '' using 1:9 with linespoints lw 2 pt 5 title 'raw INSERT', \
     '' using 1:10 with linespoints lw 2 pt 9 title 'PL/pgSQL'
unset multiplot
