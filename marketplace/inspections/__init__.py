"""Random inspections (双随机、一公开): the inspector register, tasks drawn with the commit–reveal randomness of
the random selection, findings per agency, results published when a task closes."""
