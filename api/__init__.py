"""The review service: a FastAPI app over the pipeline's results (accounts, workspaces, jobs, clips)."""
