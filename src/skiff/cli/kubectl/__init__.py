"""`skiff kubectl`: a kubectl-compatible client of the Kubernetes API.

Each command family lives in its own module, imported only when used, so that a
`skiff kubectl get pods` pays for the modules it needs and no more.
"""

from __future__ import annotations

import sys

# command word → module under skiff.cli.kubectl
COMMANDS = {
    "get": "get", "describe": "describe", "create": "create", "apply": "apply", "delete": "delete",
    "edit": "edit", "label": "label", "annotate": "label", "scale": "scale", "explain": "explain",
    "api-resources": "discovery_cmds", "api-versions": "discovery_cmds", "config": "config_cmds",
    "cluster-info": "info", "version": "info",
    "logs": "logs", "exec": "exec", "rollout": "rollout", "attach": "exec", "port-forward": "portforward",
    "rolling-update": "rollingupdate",
    "cp": "cp", "top": "top", "run": "run_cmd", "expose": "expose", "autoscale": "autoscale",
    "patch": "patch", "set": "set_cmd", "cordon": "nodes", "uncordon": "nodes", "drain": "nodes", "taint": "taint",
    "wait": "wait", "replace": "replace", "auth": "auth",
}

USAGE = """kubectl controls the Kubernetes cluster manager (skiff's implementation).

Basic Commands:
  create          Create a resource from a file or from stdin
  get             Display one or many resources
  explain         Get documentation for a resource
  edit            Edit a resource on the server
  delete          Delete resources by file names, stdin, resources and names, or by resources and label selector

Basic Commands (Beginner):
  expose          Take a replication controller, service, deployment or pod and expose it as a new Kubernetes service
  run             Run a particular image on the cluster
  set             Set specific features on objects

Deploy Commands:
  rollout         Manage the rollout of a resource
  autoscale       Auto-scale a deployment, replica set, stateful set, or replication controller
  scale           Set a new size for a deployment, replica set, or replication controller
  rolling-update  Perform a rolling update of the given ReplicationController

Cluster Management Commands:
  cluster-info    Display cluster information
  cordon          Mark node as unschedulable
  uncordon        Mark node as schedulable
  drain           Drain node in preparation for maintenance
  taint           Update the taints on one or more nodes
  top             Display resource (CPU/memory) usage

Troubleshooting and Debugging Commands:
  describe        Show details of a specific resource or group of resources
  logs            Print the logs for a container in a pod
  attach          Attach to a running container
  exec            Execute a command in a container
  port-forward    Forward one or more local ports to a pod
  cp              Copy files and directories to and from containers

Advanced Commands:
  patch           Update fields of a resource
  replace         Replace a resource by file name or stdin
  wait            Experimental: Wait for a specific condition on one or many resources
  apply           Apply a configuration to a resource by file name or stdin

Settings Commands:
  label           Update the labels on a resource
  annotate        Update the annotations on a resource

Other Commands:
  auth            Inspect authorization
  api-resources   Print the supported API resources on the server
  api-versions    Print the supported API versions on the server, in the form of "group/version"
  config          Modify kubeconfig files
  version         Print the client and server version information

Usage:
  kubectl [flags] [options]

Use "kubectl <command> --help" for more information about a given command.
"""


def main(argv: list[str]) -> int:
    from skiff.cli.kubectl.options import command_word, unknown_command_text

    index = command_word(argv)
    if index is None:
        if any(a in ("-h", "--help") for a in argv) or not argv:
            sys.stdout.write(USAGE)
            return 0
        sys.stderr.write(f"Error: unknown flag: {argv[0].split('=', 1)[0]}\nSee 'kubectl --help' for usage.\n")
        return 1
    word = argv[index]
    rest = argv[:index] + argv[index + 1:]
    if word == "help":
        sys.stdout.write(USAGE)
        return 0
    module_name = COMMANDS.get(word)
    if module_name is None:
        sys.stderr.write(unknown_command_text(word))
        return 1
    import importlib

    from skiff.cli.kubectl.session import run_guarded

    module = importlib.import_module(f"skiff.cli.kubectl.{module_name}")
    return run_guarded(lambda: module.run(word, rest))
