# Llama-2-7B shape on 2 nodes of 8 GPUs (a pretrain_gpt.py launch as people keep them).
torchrun --nproc_per_node 8 --nnodes 2 pretrain_gpt.py \
    --num-layers 32 --hidden-size 4096 --ffn-hidden-size 11008 --num-attention-heads 32 \
    --seq-length 4096 --max-position-embeddings 4096 \
    --position-embedding-type rope --normalization RMSNorm --swiglu \
    --untie-embeddings-and-output-weights --disable-bias-linear \
    --vocab-size 32000 --make-vocab-size-divisible-by 64 \
    --tensor-model-parallel-size 2 --pipeline-model-parallel-size 2 --sequence-parallel \
    --use-distributed-optimizer --recompute-granularity selective \
    --micro-batch-size 1 --global-batch-size 64 --train-iters 1000 \
    --bf16 --attention-dropout 0.0 --hidden-dropout 0.0 \
    --lr 3e-4 --min-lr 3e-5 --lr-decay-style cosine --weight-decay 0.1 \
    --data-path /data/my-corpus_text_document --tokenizer-type Llama2Tokenizer
