/* Loads an .ecnn model and prints its inputs, outputs and class count (C API, shared library). */
#include <stdio.h>

#include <edgecnn/edgecnn.h>

int main(int argc, char** argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s model.ecnn\n", argv[0]);
        return 2;
    }
    ecnn_model* model = NULL;
    if (ecnn_model_load_file(argv[1], NULL, &model) != ECNN_OK) {
        fprintf(stderr, "error: %s\n", ecnn_last_error());
        return 1;
    }
    printf("edgecnn %s (ABI %u)\n", ecnn_version_string(), ecnn_abi_version());
    for (size_t i = 0; i < ecnn_model_input_count(model); ++i) printf("input: %s\n", ecnn_model_input_name(model, i));
    for (size_t i = 0; i < ecnn_model_output_count(model); ++i) printf("output: %s\n", ecnn_model_output_name(model, i));
    printf("classes: %zu\n", ecnn_model_class_count(model));
    ecnn_model_free(model);
    return 0;
}
