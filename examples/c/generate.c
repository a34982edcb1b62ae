/* generate: open a model, encode a prompt and stream a completion - the public C API end to end.
 *
 *     generate MODEL_DIR "PROMPT" [MAX_TOKENS]
 *
 * MODEL_DIR needs a tokenizer.json. Written in C99 against dsv4.h only. */
#include <dsv4/dsv4.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int report(const char* what, dsv4_status status) {
    fprintf(stderr, "generate: %s: %s: %s\n", what, dsv4_status_string(status), dsv4_last_error());
    return 1;
}

/* Called once per generated step: print the text as soon as it is safe to show. */
static bool print_step(const dsv4_generate_step* step, void* user_data) {
    (void)user_data;
    fwrite(step->text, 1, step->text_len, stdout);
    fflush(stdout);
    return true;
}

int main(int argc, char** argv) {
    dsv4_model* model = NULL;
    dsv4_session* session = NULL;
    dsv4_sampler* sampler = NULL;
    const dsv4_tokenizer* tokenizer;
    int32_t* ids = NULL;
    size_t n_ids = 0;
    dsv4_sampler_params sampling;
    dsv4_generate_params params;
    dsv4_generate_result result;
    dsv4_status status;
    int rc = 1;

    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: generate MODEL_DIR \"PROMPT\" [MAX_TOKENS]\n");
        return 2;
    }
    status = dsv4_model_open(argv[1], NULL, &model);
    if (status != DSV4_STATUS_OK) return report(argv[1], status);
    tokenizer = dsv4_model_tokenizer(model);
    if (!tokenizer) {
        fprintf(stderr, "generate: %s has no tokenizer.json\n", argv[1]);
        goto done;
    }

    /* The prompt, as the model saw text in training: BOS first. */
    status = dsv4_tokenizer_encode(tokenizer, argv[2], strlen(argv[2]), DSV4_TOKENIZE_ADD_BOS, &ids, &n_ids);
    if (status != DSV4_STATUS_OK) {
        rc = report("encode", status);
        goto done;
    }
    status = dsv4_session_create(model, NULL, &session);
    if (status == DSV4_STATUS_OK) status = dsv4_session_prefill(session, ids, n_ids);
    if (status != DSV4_STATUS_OK) {
        rc = report("prefill", status);
        goto done;
    }

    dsv4_sampler_params_init(&sampling);
    sampling.temperature = 0.7f;
    sampling.top_p = 0.95f;
    sampling.seed = 1;
    status = dsv4_sampler_create(&sampling, &sampler);
    if (status != DSV4_STATUS_OK) {
        rc = report("sampler", status);
        goto done;
    }

    dsv4_generate_params_init(&params);
    params.max_tokens = argc == 4 ? (uint64_t)strtoull(argv[3], NULL, 10) : 64;
    params.prompt_tokens = ids; /* the repetition penalties see the prompt too */
    params.n_prompt_tokens = n_ids;
    result.struct_size = sizeof result;
    fputs(argv[2], stdout);
    status = dsv4_generate(session, tokenizer, sampler, &params, print_step, NULL, &result);
    putchar('\n');
    if (status != DSV4_STATUS_OK) {
        rc = report("generate", status);
        goto done;
    }
    fprintf(stderr, "[%llu tokens, finish reason %d]\n", (unsigned long long)result.n_generated, (int)result.finish);
    rc = 0;

done:
    dsv4_sampler_free(sampler);
    dsv4_tokens_free(ids);
    dsv4_session_destroy(session);
    dsv4_model_close(model);
    return rc;
}
