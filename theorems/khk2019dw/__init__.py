"""Kawaguchi, Huang & Kaelbling (2019), "Effect of depth and width on local minima in deep
learning", Neural Computation 31(6).

Paper: ``shared/papers/kawaguchi-huang-kaelbling-2019-depth-width.txt`` (formulas garbled;
reconstruction in ``khk-statements.md`` Part I, itself checked here). Claim ids start with
``khk2019dw.``.
"""
