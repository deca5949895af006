// libedit's readline-compatible API (line editing, history, completion) for `seam sql`.
#include <stdio.h>
#include <editline/readline.h>

// Swift 6 flags C globals as shared mutable state; set the completion hook through a function instead.
static inline void seam_set_completion(rl_completion_func_t *f) { rl_attempted_completion_function = f; }
