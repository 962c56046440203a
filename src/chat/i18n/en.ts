/** The system's own words in English: the source catalogue; every other language has its keys. */
export const en = {
  start:
    "Hi {{name}}! Tell me what to build, for example “a Telegram bot that tells the weather”. I ask at most two questions, then the team builds it, tests it, deploys it and I send you the link.\n\n{{commands}}",
  help: "Write what you want built or changed, in your own words.\n\n{{commands}}",
  commands:
    "/projects: your projects and their links\n/status: how your projects are doing\n/new: start a fresh conversation\n/cancel: stop what I am doing and drop your waiting messages\n/help: this help",
  command: {
    start: "Start",
    help: "What I can do",
    projects: "Your projects",
    status: "How your projects are doing",
    new: "Start a fresh conversation",
    cancel: "Stop and drop waiting messages",
  },
  unknownCommand: "I do not know {{command}}.\n\n{{commands}}",
  projects: {
    none: "You have no projects yet. Tell me what to build.",
    header: "Your projects:",
    item: "• {{name}}: {{status}}",
    link: " · {{link}}",
  },
  status: {
    none: "You have no projects yet.",
    header: "How your projects are doing:",
    item: "• {{name}}: {{status}}",
    live: "live since {{since}}",
    running: "{{kind}} run in progress",
    failure: "last failure: {{reason}}",
    uptime: "up {{percent}}% of the last 24 h",
    incident: "down since {{since}}: {{reason}}",
  },
  projectStatus: {
    draft: "not built yet",
    building: "building",
    deploying: "deploying",
    live: "live",
    blocked: "waiting for you",
    failed: "failed",
    stopped: "stopped",
    archived: "archived",
  },
  cancel: {
    done_one: "Stopped. {{count}} waiting message dropped. Builds already running go on; /status shows them.",
    done_other:
      "Stopped. {{count}} waiting messages dropped. Builds already running go on; /status shows them.",
    nothing: "There was nothing to stop. Builds already running go on; /status shows them.",
  },
  new: "Starting fresh. What shall we build?",
  secrets: {
    taken:
      "🔒 I took {{names}} out of your message and keep it sealed for your project: no model, log or chat history sees it. Your message is deleted so it does not stay in this chat.",
    takenKeep:
      "🔒 I took {{names}} out of your message and keep it sealed for your project: no model, log or chat history sees it. I could not delete your message: please delete it yourself.",
    stored: "🔒 {{key}} is stored for {{project}}, sealed.",
    next: "Now send {{key}} the same way: just the value, in a message of its own.",
    tooLarge:
      "⚠️ {{name}} in your message is too large to keep as a secret ({{max}} bytes at most): I removed it and kept nothing.",
    webhookRemoved: "✅ The webhook is removed: @{{username}} gets its updates here now.",
    notAsked: "Nothing asked for {{key}} here any more: tell me what it is for, and I will ask for it again.",
    webhookFailed: "❌ I could not remove the webhook: {{reason}}",
  },
  bot: {
    stored: "✅ That token belongs to @{{username}}, stored for {{project}}.",
    held: "✅ That token belongs to @{{username}}, stored: it goes to the project we make.",
    invalid:
      "❌ That is not a bot token. A token looks like 123456789:AA… (digits, a colon, 35 letters and signs): copy it whole from @BotFather.",
    rejected:
      "❌ Telegram does not accept that token: it may have been revoked. In @BotFather open /mybots, choose your bot, API Token, and send the current one.",
    unchecked:
      "⚠️ I could not reach Telegram to check that token. I kept it sealed and it is checked again before the bot goes live.",
    inUse:
      "❌ @{{username}} already runs for another project, and one bot serves one project. Make a new bot with @BotFather (/newbot) and send its token.",
    inPool:
      "❌ @{{username}} belongs to the bot pool. Send a token of your own bot, or ask me to take a bot from the pool.",
    webhook:
      "⚠️ @{{username}} has a webhook set to {{url}}: Telegram sends its updates there, so the bot we deploy would get none. Remove that webhook?",
    removeWebhook: "Remove the webhook",
  },
  access: {
    pending:
      "Hi! You do not have access yet. I have asked an administrator to let you in; I will tell you here.",
    request: "{{name}} ({{handle}}, id {{id}}) asks for access.",
    approve: "Approve",
    deny: "Deny",
    granted: "You have access now. Tell me what to build.",
    denied: "An administrator did not give you access.",
    decidedApproved: "{{name}}: approved.",
    decidedDenied: "{{name}}: denied.",
    adminOnly: "Only an administrator can decide that.",
  },
  progress: {
    titleBuild: "🛠 {{project}}: building",
    titleChange: "🛠 {{project}}: changing",
    titleDeploy: "🚀 {{project}}: deploying",
    queued: "queued",
    architect: "Architect",
    preparer: "Preparing the repository",
    developer: "Developer, round {{round}}",
    tester: "Tester: {{passed}} passed, {{failed}} failed",
    testerNoRun: "Tester: the commit was refused",
    revise: "Architect answers a question",
    deploy: "Deploy",
    healthGate: "Health gate",
    done: "done",
    failed: "failed",
    blocked: "waiting for you",
  },
  outcome: {
    liveUrl: "✅ {{project}} is live: {{url}}",
    liveBot: "✅ {{project}} is live: @{{bot}} ({{url}})",
    liveBotOnly: "✅ {{project}} is live: @{{bot}}",
    liveNoLink: "✅ {{project}} is live.",
    failed: "❌ {{project}}: the {{what}} failed: {{reason}}",
    failedRestored: "❌ {{project}}: the deploy failed: {{reason}}. The previous version keeps running.",
    blockedQuestion:
      "❓ {{project}} needs your answer: {{question}}\n\nYour next message here is taken as the answer.",
    blockedSecrets: "🔑 {{project}} needs these secrets before it can go live: {{names}}.",
    blocked: "⏸ {{project}} stopped and needs you: {{reason}}",
    tornDown: "🗑 {{project}} is torn down: its service is stopped.",
    cancelled: "⏹ {{project}}: the {{what}} was cancelled.",
    incidentOpened:
      "🚨 {{project}} is down: {{reason}}. Restarting it did not help ({{restarts}} tries). I keep trying and tell you when it is back.",
    incidentRepair: "🛠 A fix is under way: engineering run {{runId}}.",
    incidentClosed: "✅ {{project}} is back up (it was down for {{duration}}).",
    build: "build",
    deploy: "deploy",
  },
  answer: {
    taken: "Thanks. {{project}} goes on with your answer.",
    failed: "I could not pass your answer on: {{reason}}",
  },
  error: {
    model_timeout:
      "The model did not answer in time, so I did nothing with your message. Please send it again in a minute.",
    model_unavailable:
      "The model is unavailable right now, so I did nothing with your message. Please try again later.",
    model_unauthorized:
      "The model refused this orchestrator's key, so I cannot answer. An administrator needs to fix the key.",
    model_rejected:
      "The model refused my request, so I did nothing with your message. An administrator can find the reason in the logs.",
    budget: "The model budget is used up, so I did nothing with your message. An administrator can raise it.",
    rounds:
      "I could not finish that within my step limit. Please say it again in fewer steps, or ask for one thing at a time.",
    internal: "Something went wrong on my side, so I did nothing with your message. Please try again.",
  },
  guard: {
    unverified:
      "I was about to tell you something I cannot confirm (a link or a bot that is not live), so I am not sending it. This is what the system knows:",
    nothingLive: "None of your projects is live yet.",
  },
  demo: {
    prefix: "[scripted PO]",
    banner: "Demo: the Product Owner is scripted, no model is called.",
  },
} as const;
