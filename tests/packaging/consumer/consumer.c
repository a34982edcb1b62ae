/* Consumer program in C: opens a model given on the command line and prints its shape. */
#include <dsv4/dsv4.h>
#include <stdio.h>

int main(int argc, char **argv) {
    dsv4_model *model = NULL;
    dsv4_model_info info;
    dsv4_status st;
    if (argc < 2) return 2;
    st = dsv4_model_open(argv[1], NULL, &model);
    if (st != DSV4_STATUS_OK) {
        fprintf(stderr, "%s: %s\n", dsv4_status_string(st), dsv4_last_error());
        return 1;
    }
    info.struct_size = sizeof info;
    if (dsv4_model_get_info(model, &info) != DSV4_STATUS_OK) return 1;
    printf("c: dsv4 %s layers=%d hidden=%d vocab=%d\n", dsv4_version(), info.n_layers, info.hidden_size, info.vocab_size);
    dsv4_model_close(model);
    return 0;
}
