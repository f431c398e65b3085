vllm serve llama-3-8b \
  --tensor-parallel-size 2 --max-model-len 8192 --gpu-memory-utilization 0.85 \
  --kv-cache-dtype fp8 --max-num-seqs 64 --block-size 32 --port 8000 --enable-prefix-caching
