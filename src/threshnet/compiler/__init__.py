"""The compiler: a spec to layer plans, in stages, each handing the next one IR.

``parse`` -> ``lower`` (boolean graph) -> ``mapping`` (threshold cover) ->
``threshold`` (integer threshold gates) -> ``layering`` (a layer per gate) ->
``torch_backend`` / ``sparse_backend`` (dense or sparse layer plans), run by
``compiling.compile_stages``.  ``ir`` states every IR's fields and checks
them; ``runtime`` holds the torch modules a network is made of; ``options``
the choices of every option.

Nothing here imports a module above this package (``threshnet.build``,
``network``, ``precision``, ``frontends``...): those use the compiler, never
the other way round.  ``threshnet.build.compile`` turns the plans into a
network.
"""
