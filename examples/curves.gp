# Learning curves from the CSV logs of the training examples
# (mlp_fashion --csv, cnn_fashion --csv), whose columns are
#     epoch,train_loss,val_accuracy,lr,seconds
#
#   ./build/examples/mlp_fashion --hidden 4 --csv mlp.csv
#   gnuplot -e "files='mlp.csv'; out='curves.png'" examples/curves.gp
#   gnuplot -e "files='mlp.csv cnn.csv'; out='curves.svg'" examples/curves.gp
#
# Several files (space-separated) are drawn on the same axes, one line each,
# titled by their file names. The output format follows the name: .png or .svg.
if (!exists("files")) files = 'curve.csv'
if (!exists("out")) out = 'curves.png'
if (out[strlen(out)-2:] eq 'svg') {
    set terminal svg size 1200,450 dynamic font 'Helvetica,12'
} else {
    set terminal png size 1200,450 font ',11'
}
set output out
set datafile separator ','
set key autotitle columnhead
set grid
set xlabel 'epoch'
set key noenhanced
set multiplot layout 1,2
set title 'training loss (cross-entropy, mean over the epoch)'
set ylabel 'loss'
set logscale y
plot for [f in files] f using 'epoch':'train_loss' with linespoints lw 2 pt 7 ps 0.6 title f
unset logscale y
set title 'validation accuracy'
set ylabel 'accuracy'
set key bottom right
plot for [f in files] f using 'epoch':'val_accuracy' with linespoints lw 2 pt 7 ps 0.6 title f
unset multiplot
