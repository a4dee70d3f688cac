"""Text side of the sentence VAE: the tokenizer shared with web/text/tokenizer.js, and corpus readers."""
