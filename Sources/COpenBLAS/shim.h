// Debian's libopenblas-dev: cblas.h also declares openblas_get_corename / _config / _set_num_threads.
#include <cblas.h>
