// Debian's libdnnl-dev (oneDNN 2.x, C API). Debian builds oneDNN on OpenMP (libgomp): its thread count
// is the calling thread's OpenMP setting, which rlhub sets before every primitive it runs.
#include <oneapi/dnnl/dnnl.h>
void omp_set_num_threads(int);
int omp_get_max_threads(void);
