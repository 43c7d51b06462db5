// libarchive, reached only from Sources/Store/Archive (tar + zstd checkpoint archives).
#include <archive.h>
#include <archive_entry.h>
