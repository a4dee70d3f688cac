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
    vocab_size: int = 4000     # tokens incl. the 4 specials (set from the tokenizer)
    emb: int = 128             # token embedding size, shared by encoder and decoder (and the tied output layer)
    hidden: int = 256          # decoder GRU hidden size
    encoder_hidden: int = 128  # encoder GRU hidden size (per direction)
    bidirectional: bool = True  # encoder reads the sentence both ways; mu sees both final states
    latent_size: int = 32      # dimension of z (GRULM ignores it)
    word_dropout: float = 0.3  # training only: share of decoder input tokens replaced by <unk> (GRULM ignores it)
    dropout: float = 0.1       # training only: dropout on embeddings and on decoder outputs
    tie_weights: bool = True   # output layer = embedding matrix (after a hidden -> emb projection when they differ)
    max_len: int = 33          # greedy decoding steps incl. </s> (= max_tokens + 1)


@dataclass
class TextTrainConfig:
    sentences: str | None = None    # UTF-8 file, one sentence per line; None = WordNet example sentences
    max_tokens: int = 32            # sentences longer than this many BPE tokens are dropped
    vocab_size: int = 4000          # BPE vocabulary incl. the 4 specials, learnt on the training split
    min_frequency: int = 2          # BPE: a merge must occur this often in the training split
    epochs: int = 10                # passes over the training set
    batch_size: int = 64            # sentences per optimizer step
    lr: float = 2e-3                # Adam learning rate (peak)
    lr_schedule: str = "cosine"     # "cosine": per step from lr down to lr_min * lr; "constant"
    lr_min: float = 0.05            # cosine: the last step's share of lr
    grad_clip: float = 5.0          # max gradient norm
    kl_anneal: str = "cyclical"     # KL weight 0 -> beta: "cyclical" (Fu et al. 2019), "linear", or "logistic" (Bowman et al.)
    kl_cycles: int = 4              # cyclical: cycles over the training steps after AE pre-training
    kl_ratio: float = 0.5           # cyclical: share of each cycle spent rising linearly (then held at beta)
    kl_anneal_steps: int = 2000     # linear / logistic: optimizer steps to reach beta (logistic: half of it at half way)
    beta: float = 1.0               # KL weight once annealed
    ae_epochs: float = 0.0          # autoencoder pre-training: epochs with KL weight 0 before annealing starts
    free_bits: float = 1.0          # nats per latent dimension (batch mean) that the KL term does not penalize; 0 = off
    lm_dropout: float = 0.3         # the language-model baseline's dropout (it has no z to lean on, so it overfits sooner)
    iw_samples: int = 100           # test: posterior samples per sentence for the importance-weighted NLL; 0 = skip
    prior_samples: int = 1000       # test: sentences decoded from z ~ N(0, I) to count distinct ones
    seed: int = 0                   # seeds split, init, shuffling, dropout and sampling
