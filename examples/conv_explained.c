/* What a convolution layer and a pooling layer compute, on the textbook
 * example: a 5x5 binary image and a 3x3 kernel.
 *
 * The kernel slides over the image; at each position, the output (the
 * "convolved feature") is the sum of the image pixels under the kernel, each
 * multiplied by the kernel weight above it. With no padding and stride 1, a
 * 3x3 kernel fits in 3 x 3 positions of a 5x5 image, so the feature map is
 * 3x3. In a network the kernel weights are parameters: training adjusts them
 * to the patterns that help the task, starting from the gradient printed at
 * the end. Max pooling then keeps the largest value of each window, a summary
 * that shrinks the map and ignores small shifts.
 *
 * Build and run:  meson setup build && meson compile -C build && ./build/examples/conv_explained
 */
#include <stdio.h>
#include "agrad.h"

static void print_map(const char *title, const ag_tensor *x)
{
    size_t h = ag_dim(x, -2), w = ag_dim(x, -1);
    printf("%s (%zux%zu):\n", title, h, w);
    for (size_t i = 0; i < h; i++) {
        for (size_t j = 0; j < w; j++) printf(" %3g", (double)ag_data(x)[i * w + j]);
        printf("\n");
    }
    printf("\n");
}

int main(void)
{
    ag_real image[25] = {1, 1, 1, 0, 0,
                         0, 1, 1, 1, 0,
                         0, 0, 1, 1, 1,
                         0, 0, 1, 1, 0,
                         0, 1, 1, 0, 0};
    ag_real kernel[9] = {1, 0, 1,
                         0, 1, 0,
                         1, 0, 1};
    ag_tape *t = ag_tape_new();
    ag_tensor *k = ag_param_new(AG_SHAPE(1, 1, 3, 3)); /* a parameter, to see its gradient */
    if (!t || !k) {
        fprintf(stderr, "conv_explained: out of memory\n");
        return 1;
    }
    for (int i = 0; i < 9; i++) ag_data(k)[i] = kernel[i];

    /* Tensors are NCHW: [batch, channels, height, width] = [1, 1, 5, 5]. */
    ag_tensor *x = ag_tensor_wrap(t, image, AG_SHAPE(1, 1, 5, 5));
    ag_tensor *fmap = ag_conv2d_fn(t, x, k, NULL, 1 /*stride*/, 0 /*pad*/, 1 /*dilation*/);
    /* 2x2 max pooling, stride 2, with one row and column of padding so the
     * 3x3 map gives 2x2 windows; the padding is -infinity, never the max. */
    ag_tensor *pooled = ag_maxpool2d(t, fmap, 2, 2, 1);
    if (ag_tape_status(t) != AG_OK) {
        fprintf(stderr, "conv_explained: %s\n", ag_tape_errmsg(t));
        return 1;
    }

    print_map("image", x);
    print_map("kernel", k);
    printf("first feature: the top-left 3x3 patch times the kernel, summed:\n"
           "  1*1 + 1*0 + 1*1 + 0*0 + 1*1 + 1*0 + 0*1 + 0*0 + 1*1 = %g\n\n",
           (double)ag_data(fmap)[0]);
    print_map("feature map = image (*) kernel", fmap);
    print_map("max-pooled map (2x2 windows, stride 2, padding 1)", pooled);

    /* d(sum of the feature map) / d(kernel weight): each weight collects the
     * pixels it was multiplied with, at all 9 positions. Gradient descent
     * moves the kernel along this, i.e. towards the patterns it saw. */
    if (ag_backward(t, ag_sum_all(t, fmap)) != AG_OK) {
        fprintf(stderr, "conv_explained: %s\n", ag_tape_errmsg(t));
        return 1;
    }
    printf("gradient of the feature map's sum with respect to the kernel (3x3):\n");
    for (int i = 0; i < 3; i++)
        printf(" %3g %3g %3g\n", (double)ag_grad(k)[3 * i], (double)ag_grad(k)[3 * i + 1],
               (double)ag_grad(k)[3 * i + 2]);
    ag_tape_free(t);
    ag_param_free(k);
    return 0;
}
