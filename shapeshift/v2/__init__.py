"""Format-2 semantics (format-v2.md): the per-entity pipeline of Shape Shifter 2 projects.

The run, planning, loaders, writers and reporting are shared with format 1 (`shapeshift.pipeline`,
`shapeshift.sources`); this package holds only what format 2 does differently.
"""
