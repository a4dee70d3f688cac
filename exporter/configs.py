"""Every configuration as a dataclass, one comment per field. Checkpoints save them and runs are
rebuilt from them; the command line takes its defaults from them. No torch here, so the CLI
can show `--help` (and `serve` can start) without loading it."""
from dataclasses import dataclass

LATENT_SIZE = {"mlp": 8, "conv": 16}  # default dimension of z per architecture


@dataclass
class VAEConfig:
    arch: str = "mlp"        # "mlp" or "conv" (conv needs H and W divisible by 4)
    height: int = 8          # image height in pixels
    width: int = 8           # image width in pixels
    latent_size: int = LATENT_SIZE["mlp"]  # dimension of z
    hidden: int = 256        # width of the hidden layer(s)
    channels: int = 32       # conv only: channels of the first conv layer (the second has 2x)
    colors: int = 1          # 1: grey images (B, H, W); 3: RGB images (B, H, W, 3)


@dataclass
class TrainConfig:
    dataset: str | None = None  # digits (default) | fashion-mnist | shapes | a name for --data
    data: str | None = None    # folder of MNIST-style IDX files, or an .npz file
    epochs: int = 150          # passes over the training set
    batch_size: int = 64       # images per optimizer step
    lr: float = 1e-3           # Adam learning rate
    beta: float = 1.0          # KL weight once warm-up is over
    kl_warmup: int = 10        # epochs over which the KL weight rises linearly from 0 to beta
    seed: int = 0              # seeds data split, init, shuffling and sampling
    limit: int | None = None   # train on only the first N training images (smoke tests)


@dataclass
class TextVAEConfig:
    vocab_size: int = 10000    # tokens incl. the 4 specials (set from the corpus vocabulary)
    emb: int = 256             # word embedding size, shared by encoder and decoder
    hidden: int = 256          # GRU hidden size of encoder and decoder
    latent_size: int = 16      # dimension of z (GRULM ignores it)
    word_dropout: float = 0.1  # training only: share of decoder input words replaced by <unk> (GRULM ignores it)
    dropout: float = 0.3       # training only: dropout on embeddings and on decoder outputs
    tie_weights: bool = True   # output layer reuses the embedding matrix (needs emb == hidden): half the bundle
    max_len: int = 21          # greedy decoding steps incl. </s> (= longest training sentence + 1)


@dataclass
class TextTrainConfig:
    sentences: str | None = None    # UTF-8 file, one sentence per line; None = WordNet example sentences
    max_tokens: int = 20            # longer sentences are dropped
    vocab_size: int = 10000         # vocabulary incl. the 4 specials, most frequent training tokens
    epochs: int = 10                # passes over the training set
    batch_size: int = 64            # sentences per optimizer step
    lr: float = 1e-3                # Adam learning rate
    grad_clip: float = 5.0          # max gradient norm
    kl_anneal: str = "logistic"     # KL weight 0 -> 1: "logistic" (Bowman et al.) or "linear"
    kl_anneal_steps: int = 2000     # optimizer steps to reach weight ~1 (logistic: 0.5 at half way)
    free_bits: float = 0.2          # nats per latent dimension (batch mean) that the KL term does not penalize; 0 = off
    seed: int = 0                   # seeds split, init, shuffling, dropout and sampling
