/* Classifies one 28x28 Fashion-MNIST image with the C API and prints the top-1 class name
 * stored in the .ecnn file.
 *
 *   classify_c model.ecnn image.raw     (image.raw: 784 bytes, row-major, 0 = background)
 */
#include <stdio.h>
#include <stdlib.h>

#include "edgecnn/edgecnn.h"

int main(int argc, char** argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s model.ecnn image.raw\n", argv[0]);
        return 2;
    }
    if (ecnn_abi_version() != EDGECNN_ABI_VERSION) {
        fprintf(stderr, "libedgecnn_runtime ABI %u, this program needs %d\n", ecnn_abi_version(), EDGECNN_ABI_VERSION);
        return 1;
    }
    unsigned char pixels[28 * 28];
    FILE* f = fopen(argv[2], "rb");
    if (!f || fread(pixels, 1, sizeof pixels, f) != sizeof pixels) {
        fprintf(stderr, "%s: cannot read 784 bytes\n", argv[2]);
        if (f) fclose(f);
        return 1;
    }
    fclose(f);
    /* The model's preprocessing (models/fashion_mnist/README.md; also in the file's
     * "preprocess" metadata): x = (pixel / 255 - 0.2860) / 0.3530, NCHW [1,1,28,28]. */
    float input[28 * 28];
    for (int i = 0; i < 28 * 28; ++i) input[i] = ((float)pixels[i] / 255.0f - 0.2860f) / 0.3530f;

    ecnn_model* model = NULL;
    ecnn_session* session = NULL;
    if (ecnn_model_load_file(argv[1], NULL, &model) != ECNN_OK) {
        fprintf(stderr, "error: %s\n", ecnn_last_error());
        return 1;
    }
    ecnn_session_options options;
    ecnn_session_options_init(&options);
    options.num_threads = 1;
    int rc = 1;
    const int64_t shape[4] = {1, 1, 28, 28};
    ecnn_tensor logits;
    if (ecnn_session_create(model, &options, &session) != ECNN_OK ||
        ecnn_session_bind_input(session, ecnn_model_input_name(model, 0), ECNN_F32, shape, 4, input) != ECNN_OK ||
        ecnn_session_run(session) != ECNN_OK || ecnn_session_output(session, 0, &logits) != ECNN_OK) {
        fprintf(stderr, "error: %s\n", ecnn_last_error());
        goto done;
    }
    if (logits.dtype != ECNN_F32 || logits.rank != 2 || logits.shape[1] < 1) {
        fprintf(stderr, "error: unexpected output\n");
        goto done;
    }
    const float* scores = (const float*)logits.data;
    size_t best = 0;
    for (size_t i = 1; i < (size_t)logits.shape[1]; ++i)
        if (scores[i] > scores[best]) best = i;
    const char* name = ecnn_model_class_name(model, best);
    printf("top-1: %s (class %zu, logit %.3f)\n", name ? name : "?", best, scores[best]);
    rc = 0;
done:
    ecnn_session_free(session);
    ecnn_model_free(model);
    return rc;
}
