# Activation functions and their derivatives, side by side, from the CSV
# written by examples/activations.c:
#
#   ./build/examples/activations act.csv
#   gnuplot -e "csv='act.csv'; out='activations.png'" examples/activations.gp
#
# The output format follows the file name: .png or .svg.
if (!exists("csv")) csv = 'activations.csv'
if (!exists("out")) out = 'activations.png'
if (out[strlen(out)-2:] eq 'svg') {
    set terminal svg size 1600,420 dynamic font 'Helvetica,12'
} else {
    set terminal png size 1600,420 font ',11'
}
set output out
set datafile separator ','
set grid
set xrange [-6:6]
set yrange [-1.15:1.15]
set xzeroaxis
set key top left
set multiplot layout 1,4
names = "sigmoid tanh relu leaky_relu"
array titles[4] = ["sigmoid", "tanh", "ReLU", "leaky ReLU (alpha 0.1)"]
do for [i = 1:4] {
    name = word(names, i)
    set title titles[i] noenhanced
    if (i == 3 || i == 4) { set yrange [-1.15:6.15] } else { set yrange [-1.15:1.15] }
    plot csv using 'x':name with lines lw 2 title name noenhanced, \
         csv using 'x':(column('d_'.name)) with lines lw 2 dt 2 title 'derivative'
}
unset multiplot
