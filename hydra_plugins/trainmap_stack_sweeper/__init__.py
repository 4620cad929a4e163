"""A Hydra sweeper that trains the cells of a sweep in stacks: `hydra/sweeper=stacked`."""
