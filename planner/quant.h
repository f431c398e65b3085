// quant.h — bytes per weight of the formats models are served and fine-tuned in.
//
// Sources: LLM.int8() (Dettmers et al. 2022; bitsandbytes Linear8bitLt: int8 weights + one fp32
// scale per output row); GPTQ (Frantar et al. 2023) and AWQ (Lin et al. 2024): b-bit weights with
// one fp16 scale and one b-bit zero point per group of g input columns (g = 128 by default);
// QLoRA (Dettmers et al. 2023) NF4: 4-bit codes + one fp32 absmax per block of 64, with double
// quantization the absmax in 8 bits plus one fp32 constant per 256 absmax values (§3, "0.127 bits
// per parameter"). docs/INFERENCE.md.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace llmplan {

enum class WeightFormat { fp32, fp16, bf16, fp8, int8, int4, int3, nf4 };

struct QuantSpec {
    WeightFormat format = WeightFormat::bf16;
    int group_size = 128;          // int4 / int3 (GPTQ, AWQ)
    bool double_quant = true;      // nf4 (QLoRA)
};

const char* to_string(WeightFormat f);
WeightFormat parse_weight_format(std::string_view text, std::string_view flag);
std::vector<std::string> weight_format_names();

// Bytes per element of a matmul weight of `in_features` columns stored in this format,
// scales and zero points included.
double weight_bytes_per_element(const QuantSpec& q, double in_features);

// Formula text for the explanation ("4 bits + fp16 scale and 4-bit zero per 128 = 0.5195 B").
std::string weight_format_formula(const QuantSpec& q, double in_features);

// The compute dtype's size for tensors that stay unquantized (embeddings, norms, the head):
// fp32 models keep 4 bytes, everything else 2 (fp16/bf16).
double unquantized_bytes(WeightFormat f);

}  // namespace llmplan
