// kernel_table_texts.h — the measured kernel tables bundled with llmplan
// (validation/kernels/kernel_tables_<key>.json, written by validation/kernels/measure_kernels.py), as
// text compiled into the program: the file the script wrote is the table's one source
// (core/kernel_table.h parses it).
#pragma once

#include <string_view>
#include <vector>

namespace llmplan {

struct KernelTableText {
    std::string_view key;   // the file name's tail, e.g. "h200" for kernel_tables_h200.json
    std::string_view json;  // the file's text
};

// Every bundled table, sorted by key.
const std::vector<KernelTableText>& bundled_kernel_tables();

}  // namespace llmplan
