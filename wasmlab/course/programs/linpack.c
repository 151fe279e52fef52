/* A LINPACK-style benchmark: solve a dense n x n system by LU factorisation with partial
 * pivoting (the dgefa/dgesl algorithm), report MFLOPS and the residual.  wasmlab's own code. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void fill(int n, double *a, double *b) {
    unsigned seed = 1325;
    for (int j = 0; j < n; j++)
        for (int i = 0; i < n; i++) {
            seed = 3125 * seed % 65536;
            a[j * n + i] = (seed - 32768.0) / 16384.0;
        }
    for (int i = 0; i < n; i++) b[i] = 0.0;
    for (int j = 0; j < n; j++)
        for (int i = 0; i < n; i++) b[i] += a[j * n + i];
}

/* column-major LU factorisation with partial pivoting; returns 0 when not singular */
static int factor(int n, double *a, int *pivot) {
    for (int k = 0; k < n - 1; k++) {
        double *col = a + k * n;
        int p = k;
        for (int i = k + 1; i < n; i++)
            if (fabs(col[i]) > fabs(col[p])) p = i;
        pivot[k] = p;
        if (col[p] == 0.0) return k + 1;
        if (p != k) { double t = col[p]; col[p] = col[k]; col[k] = t; }
        double scale = -1.0 / col[k];
        for (int i = k + 1; i < n; i++) col[i] *= scale;
        for (int j = k + 1; j < n; j++) {
            double *cj = a + j * n;
            double t = cj[p];
            if (p != k) { cj[p] = cj[k]; cj[k] = t; }
            for (int i = k + 1; i < n; i++) cj[i] += t * col[i];  /* daxpy: the hot loop */
        }
    }
    pivot[n - 1] = n - 1;
    return a[(n - 1) * n + n - 1] == 0.0 ? n : 0;
}

static void solve(int n, const double *a, const int *pivot, double *b) {
    for (int k = 0; k < n - 1; k++) {
        int p = pivot[k];
        double t = b[p];
        if (p != k) { b[p] = b[k]; b[k] = t; }
        for (int i = k + 1; i < n; i++) b[i] += t * a[k * n + i];
    }
    for (int k = n - 1; k >= 0; k--) {
        b[k] /= a[k * n + k];
        double t = -b[k];
        for (int i = 0; i < k; i++) b[i] += t * a[k * n + i];
    }
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 500;
    int repeats = argc > 2 ? atoi(argv[2]) : 3;
    double *a = malloc(sizeof(double) * n * n), *b = malloc(sizeof(double) * n);
    int *pivot = malloc(sizeof(int) * n);
    double best = 1e30;
    for (int r = 0; r < repeats; r++) {
        fill(n, a, b);
        double t0 = now();
        if (factor(n, a, pivot)) { printf("singular\n"); return 1; }
        solve(n, a, pivot, b);
        double t = now() - t0;
        if (t < best) best = t;
    }
    double residual = 0.0;
    for (int i = 0; i < n; i++) residual = fmax(residual, fabs(b[i] - 1.0));
    double flops = 2.0 / 3.0 * n * (double)n * n + 2.0 * n * (double)n;
    printf("n=%d seconds=%.6f mflops=%.1f max_error=%.3e\n", n, best, flops / best / 1e6, residual);
    return 0;
}
