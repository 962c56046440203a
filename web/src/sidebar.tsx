import type { Conversation, Project } from "./contract";
import { useStrings } from "./i18n";
import { safeHref } from "./messages";

export interface SidebarProps {
  /** Newest first; null while loading. */
  conversations: Conversation[] | null;
  activeId: string | null;
  projects: Project[] | null;
  onSelect(id: string): void;
  onCreate(): void;
}

/** The person's conversations (to pick one or start another) and their projects. */
export function Sidebar({ conversations, activeId, projects, onSelect, onCreate }: SidebarProps) {
  const strings = useStrings();
  return (
    <aside className="sidebar">
      <nav aria-labelledby="conversations-heading">
        <div className="sidebar__heading">
          <h2 id="conversations-heading">{strings.conversations}</h2>
          <button type="button" data-testid="new-conversation" onClick={onCreate}>
            {strings.newConversation}
          </button>
        </div>
        {conversations === null ? (
          <p role="status">{strings.loading}</p>
        ) : conversations.length === 0 ? (
          <p>{strings.noConversations}</p>
        ) : (
          <ul className="conversations">
            {conversations.map((conversation) => (
              <li
                key={conversation.id}
                data-testid="conversation-item"
                data-conversation-id={conversation.id}
              >
                <button
                  type="button"
                  aria-current={conversation.id === activeId ? "true" : undefined}
                  onClick={() => onSelect(conversation.id)}
                >
                  <span className="conversations__title">{conversation.title || strings.untitled}</span>
                  <span className={`conversations__state conversations__state--${conversation.state}`}>
                    {strings.states[conversation.state]}
                  </span>
                </button>
              </li>
            ))}
          </ul>
        )}
      </nav>
      <section aria-labelledby="projects-heading">
        <h2 id="projects-heading">{strings.projects}</h2>
        {projects === null ? (
          <p role="status">{strings.loading}</p>
        ) : projects.length === 0 ? (
          <p>{strings.noProjects}</p>
        ) : (
          <ul className="projects">
            {projects.map((project) => (
              <ProjectItem key={project.id} project={project} />
            ))}
          </ul>
        )}
      </section>
    </aside>
  );
}

function ProjectItem({ project }: { project: Project }) {
  const strings = useStrings();
  const status = strings.projectStatuses[project.status] ?? project.status;
  const href = project.url ? safeHref(project.url) : null;
  const bot = project.botUsername && /^\w{3,64}$/.test(project.botUsername) ? project.botUsername : null;
  return (
    <li className="projects__item" data-testid="project-item" data-project-id={project.id}>
      <span className="projects__name">{project.name}</span>
      <span
        className={`projects__status projects__status--${project.status}`}
        data-testid="project-status"
        data-status={project.status}
      >
        {status}
      </span>
      {href && (
        <a href={href} target="_blank" rel="noopener noreferrer">
          {href}
        </a>
      )}
      {bot && (
        <a href={`https://t.me/${bot}`} target="_blank" rel="noopener noreferrer">
          @{bot}
        </a>
      )}
    </li>
  );
}
