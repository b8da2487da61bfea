"""Commands that need parts of the cluster not built yet (node agent, controllers)."""

from __future__ import annotations

from skiff.cli.kubectl.session import CommandError

WHY = {
    "logs": "pod logs are served by the node agent", "exec": "exec is served by the node agent",
    "attach": "attach is served by the node agent", "port-forward": "port-forward is served by the node agent",
    "cp": "cp runs over exec, which the node agent serves", "top": "top needs the metrics API",
    "rollout": "rollout needs the deployment controller", "run": "run arrives with the node agent",
    "expose": "expose arrives with the service controllers", "autoscale": "autoscale needs the HPA controller",
}


def run(word: str, argv: list[str]) -> int:
    if "-h" in argv or "--help" in argv:
        print(f"kubectl {word}: not available yet in skiff kubectl ({WHY[word]}, a later issue).")
        return 0
    raise CommandError(f'"kubectl {word}" is not supported by skiff kubectl yet: {WHY[word]}, which arrives in a later issue')
