/* Compiled with -std=c99 -pedantic -Werror: the public header must be C99. */
#include <dsv4/dsv4.h>
#include <stdio.h>

int main(void) {
    dsv4_model_params params;
    dsv4_model *model = NULL;
    dsv4_status status;
    dsv4_model_params_init(&params);
    params.n_threads = 1;
    status = dsv4_model_open("/nonexistent", &params, &model);
    if (status != DSV4_STATUS_OK) printf("%s: %s\n", dsv4_status_string(status), dsv4_last_error());
    dsv4_model_close(model);
    return 0;
}
