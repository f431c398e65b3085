# Compresses every DIR/*.1 man page into DIR/*.1.gz, maximum compression, as Debian policy §12.1
# asks of installed manual pages (man reads both). Run at build time after `llmplan --help-man DIR`:
#   cmake -DDIR=<folder> -P gzip_man_pages.cmake
file(GLOB pages LIST_DIRECTORIES false "${DIR}/*.1")
foreach(page IN LISTS pages)
  file(ARCHIVE_CREATE OUTPUT "${page}.gz" PATHS "${page}" FORMAT raw COMPRESSION GZip COMPRESSION_LEVEL 9
       MTIME 0)
endforeach()
